using AgentMarket.Bench.ColdStart;
using AgentMarket.Bench.Search;

// Benchmarks, not tests. Each suite warms up, runs many iterations and prints percentiles; results go to docs/benchmarks.md.
return args switch
{
    ["coldstart", .. var rest] => await ColdStartBench.RunAsync(rest),
    ["search", .. var rest] => await SearchBench.RunAsync(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project bench/AgentMarket.Bench -- <suite> [options]");
    Console.Error.WriteLine("suites: coldstart [iterations] | search sqlite|postgres [listings] [iterations]");
    return 2;
}
