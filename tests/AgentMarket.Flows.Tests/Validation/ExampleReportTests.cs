using AgentMarket.Flows.Tests.Support;
using AgentMarket.Flows.Validation;

namespace AgentMarket.Flows.Tests.Validation;

/// <summary>
/// The compatibility report of every shared example, compared with a reviewed snapshot in Golden/. Set
/// UPDATE_GOLDEN=1 to rewrite the snapshots, then review the diff: they are what a seller sees.
/// </summary>
public class ExampleReportTests
{
    public static TheoryData<string> AllExamples => [.. Examples.All];

    [Theory]
    [MemberData(nameof(AllExamples))]
    public void Report_OfEachExample_MatchesTheReviewedSnapshot(string example)
    {
        var report = FlowEngine.Default.Validate(Examples.Bytes(example));
        var actual = report.ToJson() + "\n";
        var goldenPath = Path.Combine(Examples.RepositoryRoot(), "tests", "AgentMarket.Flows.Tests", "Golden", Path.GetFileNameWithoutExtension(example) + ".report.json");
        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(goldenPath, actual);
        }

        Assert.True(File.Exists(goldenPath), $"No snapshot for {example}; run with UPDATE_GOLDEN=1 and review it.");
        Assert.Equal(File.ReadAllText(goldenPath), actual);
    }

    [Theory]
    [MemberData(nameof(AllExamples))]
    public void Report_SurvivesAJsonRoundTrip(string example)
    {
        var report = FlowEngine.Default.Validate(Examples.Bytes(example));
        var back = CompatibilityReport.FromJson(report.ToJson());
        Assert.NotNull(back);
        Assert.Equal(report.ToJson(), back.ToJson());
    }
}
