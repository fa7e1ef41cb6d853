if (args is ["flow", ..]) { Environment.ExitCode = await AgentMarket.Runtime.Cli.FlowCli.RunAsync(args[1..]); return; }
var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();
app.MapGet("/healthz", () => "ok");
app.Run();

public partial class Program;
