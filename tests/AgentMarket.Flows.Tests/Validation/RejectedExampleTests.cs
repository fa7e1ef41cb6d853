using AgentMarket.Flows.Tests.Support;
using AgentMarket.Flows.Validation;

namespace AgentMarket.Flows.Tests.Validation;

/// <summary>The two examples the README says must be rejected, and why.</summary>
public class RejectedExampleTests
{
    [Fact]
    public void LoopTest_IsRejected_NamingItsCustomComponents()
    {
        var compiled = FlowEngine.Default.Compile(Examples.Bytes(Examples.LoopTest));

        Assert.Null(compiled.Plan);
        Assert.False(compiled.Report.Runnable);
        var custom = compiled.Report.Issues.Where(issue => issue.Code == IssueCodes.CustomCode).ToList();
        Assert.Equal(["MyZipper-xVGrn", "CustomComponent-y0t72"], custom.Select(issue => issue.NodeId));
        Assert.All(custom, issue => Assert.Equal(IssueSeverity.Error, issue.Severity));
        Assert.Equal(
            ["MyZipper-xVGrn", "CustomComponent-y0t72"],
            compiled.Report.Nodes.Where(node => node.Status == NodeSupport.CustomCode).Select(node => node.Id));
    }

    [Fact]
    public void LegacyFlow_IsRejectedAsLegacyFormat_WithoutCrashing()
    {
        var compiled = FlowEngine.Default.Compile(Examples.Bytes(Examples.LegacyChat));

        Assert.Null(compiled.Plan);
        Assert.Equal("legacy", compiled.Report.Format);
        var issue = Assert.Single(compiled.Report.Issues);
        Assert.Equal((IssueSeverity.Error, IssueCodes.LegacyFormat), (issue.Severity, issue.Code));
        Assert.Contains("before 1.0", issue.Message, StringComparison.Ordinal);
        Assert.Equal(4, compiled.Report.Nodes.Length);
    }
}
