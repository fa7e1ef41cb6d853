namespace AgentMarket.Flows.Tests;

public class EngineDependencyTests
{
    [Fact]
    public void Engine_ReferencesNeither_AspNetCore_Nor_EntityFramework()
    {
        var references = typeof(FlowEngineInfo).Assembly.GetReferencedAssemblies().Select(a => a.Name ?? "").ToList();
        Assert.DoesNotContain(references, n => n.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        Assert.DoesNotContain(references, n => n.StartsWith("Microsoft.EntityFrameworkCore", StringComparison.Ordinal));
    }
}
