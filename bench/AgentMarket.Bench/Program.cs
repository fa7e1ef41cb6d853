if (args is ["engine", ..]) { await AgentMarket.Bench.Engine.EngineBenchmark.RunAsync(args[1..]); return; }
Console.WriteLine("usage: dotnet run -c Release --project bench/AgentMarket.Bench -- <suite>");
