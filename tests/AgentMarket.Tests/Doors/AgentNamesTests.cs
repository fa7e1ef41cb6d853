using AgentMarket.Doors;

namespace AgentMarket.Tests.Doors;

/// <summary>The naming rule every door shares: slugs as they are, unique, within a length, never silently merged.</summary>
public class AgentNamesTests
{
    static readonly Guid First = Guid.Parse("0190aaaa-0000-7000-8000-000000000001");
    static readonly Guid Second = Guid.Parse("0190bbbb-0000-7000-8000-000000000002");
    static readonly Guid Third = Guid.Parse("0190cccc-0000-7000-8000-000000000003");

    [Fact]
    public void DistinctSlugs_AreTheirOwnNames()
    {
        Assert.Equal(["writer", "translator"], AgentNames.Assign([(First, "writer"), (Second, "translator")], AgentNames.ToolNameLength));
    }

    [Fact]
    public void TheSameListingTwice_TheOlderKeepsTheSlug_TheOtherGetsItsIdsPrefix()
    {
        Assert.Equal(["writer", "writer-0190bbbb"], AgentNames.Assign([(First, "writer"), (Second, "writer")], AgentNames.ToolNameLength));
    }

    [Fact]
    public void AnAgentWhoseSlugLooksLikeASuffix_KeepsIt_AndTheDuplicateTakesTheWholeId()
    {
        var names = AgentNames.Assign([(First, "writer"), (Second, "writer"), (Third, "writer-0190bbbb")], AgentNames.ToolNameLength);
        Assert.Equal(["writer", $"writer-{Second:N}", "writer-0190bbbb"], names);
    }

    [Fact]
    public void SlugsEqualOnlyUpToTheLimit_AreCutThenTold_Apart()
    {
        var stem = new string('a', 64);
        var names = AgentNames.Assign([(First, stem + "-one"), (Second, stem + "-two")], AgentNames.ToolNameLength);
        Assert.Equal([stem, new string('a', 55) + "-0190bbbb"], names);
        Assert.All(names, name => Assert.InRange(name.Length, 1, 64));
    }

    [Fact]
    public void LongSlugs_PassUnchanged_WhereNamesMayBe80Long()
    {
        var slug = new string('b', 80);
        Assert.Equal([slug], AgentNames.Assign([(First, slug)], AgentNames.SlugLength));
    }

    [Theory]
    [InlineData("plain-slug", "plain-slug")]
    [InlineData("with space.and/dots", "with-space-and-dots")]
    [InlineData("--edges--", "edges")]
    [InlineData("...", "agent")]
    [InlineData("Ünïcode_ok", "n-code_ok")]
    public void Sanitize_KeepsOnlyWhatMcpAllows(string slug, string expected)
    {
        Assert.Equal(expected, AgentNames.Sanitize(slug, AgentNames.ToolNameLength));
    }
}
