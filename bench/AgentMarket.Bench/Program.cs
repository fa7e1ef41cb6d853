using AgentMarket.Bench.ColdStart;

// Benchmarks, not tests. Each suite warms up, runs many iterations and prints percentiles; results go to docs/benchmarks.md.
return args switch
{
    ["coldstart", .. var rest] => await ColdStartBench.RunAsync(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project bench/AgentMarket.Bench -- <suite> [options]");
    Console.Error.WriteLine("suites: coldstart [iterations]");
    return 2;
}
