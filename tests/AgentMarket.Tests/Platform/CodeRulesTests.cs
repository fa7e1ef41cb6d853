using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Platform;

/// <summary>Rules that keep tenancy a mechanism rather than care: checked on the source, so a change that breaks them fails.</summary>
public class CodeRulesTests
{
    static readonly string Source = Path.Combine(Repo.Root, "src", "AgentMarket");

    [Fact]
    public void IgnoreQueryFilters_AppearsOnlyInTheOperatorArea()
    {
        Assert.True(Directory.Exists(Source), $"source folder not found at {Source}");
        var offenders = Directory.EnumerateFiles(Source, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".razor", StringComparison.Ordinal))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}Admin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(f => File.ReadAllText(f).Contains("IgnoreQueryFilters", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(Source, f))
            .ToList();
        Assert.Empty(offenders);
    }
}
