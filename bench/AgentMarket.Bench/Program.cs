using AgentMarket.Bench.ColdStart;
using AgentMarket.Bench.Doors;
using AgentMarket.Bench.Economics;
using AgentMarket.Bench.Engine;
using AgentMarket.Bench.Gateway;
using AgentMarket.Bench.Ledger;
using AgentMarket.Bench.PlatformMetrics;
using AgentMarket.Bench.Search;
using AgentMarket.Bench.Widget;

// Benchmarks, not tests. Each suite warms up, runs many iterations and prints percentiles; results go to docs/benchmarks.md.
return args switch
{
    ["coldstart", .. var rest] => await ColdStartBench.RunAsync(rest),
    ["engine", .. var rest] => await RunEngineAsync(rest),
    ["ledger", .. var rest] => await LedgerBench.RunAsync(rest),
    ["gateway", .. var rest] => await GatewayBench.RunAsync(rest),
    ["doors", .. var rest] => await DoorsBench.RunAsync(rest),
    ["widget", .. var rest] => await WidgetBench.RunAsync(rest),
    ["widget-load", .. var rest] => await WidgetLoadBench.RunAsync(rest),
    ["search", .. var rest] => await SearchBench.RunAsync(rest),
    ["economics", .. var rest] => await EconomicsBench.RunAsync(rest),
    ["platform-metrics", .. var rest] => await PlatformMetricsBench.RunAsync(rest),
    _ => Usage(),
};

static async Task<int> RunEngineAsync(string[] rest)
{
    await EngineBenchmark.RunAsync(rest);
    return 0;
}

static int Usage()
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project bench/AgentMarket.Bench -- <suite> [options]");
    Console.Error.WriteLine("suites: coldstart [iterations] | engine [iterations] | ledger [seconds] | gateway [runs] [sqlite|postgres] [webhooks] [buyers=N] | doors [rounds] | widget [rounds] | widget-load [loads] | search sqlite|postgres [listings] [iterations] | economics sqlite|postgres [iterations] | platform-metrics sqlite|postgres [iterations]");
    return 2;
}
