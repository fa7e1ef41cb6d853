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

    [Fact]
    public void PagesTakeQueryValuesAsStrings_SoAMalformedOneCannotFailThePage()
    {
        // A typed [SupplyParameterFromQuery] (int?, Guid?) throws on /?page=abc; pages read strings through QueryValues.
        var typed = new System.Text.RegularExpressions.Regex(@"\[SupplyParameterFromQuery[^\]]*\]\s*public\s+(?!string\?)\S+");
        var offenders = Directory.EnumerateFiles(Source, "*.razor", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(Source, "*.cs", SearchOption.AllDirectories))
            .Where(f => typed.IsMatch(File.ReadAllText(f)))
            .Select(f => Path.GetRelativePath(Source, f))
            .ToList();
        Assert.Empty(offenders);
    }
}
