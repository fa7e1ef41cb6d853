using AgentMarket.Knowledge.Search;

namespace AgentMarket.Tests.Knowledge;

/// <summary>A user's question becomes quoted literal terms, never query syntax.</summary>
public class FullTextQueryTests
{
    [Fact]
    public void NaturalQuestion_KeepsItsContentWords_OrEdAndQuoted()
    {
        var query = FullTextQuery.From("What's the refund policy for damaged items?");

        Assert.Equal(["refund", "policy", "damaged", "items"], query.Terms);
        Assert.False(query.LastIsPrefix);
        Assert.Equal("\"refund\" OR \"policy\" OR \"damaged\" OR \"items\"", query.ToSqliteMatch());
        Assert.Equal("'refund' | 'policy' | 'damaged' | 'items'", query.ToPostgresTsQuery());
    }

    [Fact]
    public void AnUnfinishedLastWord_AlsoMatchesAsAPrefix()
    {
        var query = FullTextQuery.From("espresso warr");

        Assert.True(query.LastIsPrefix);
        Assert.Equal("\"espresso\" OR \"warr\"*", query.ToSqliteMatch());
        Assert.Equal("'espresso' | 'warr':*", query.ToPostgresTsQuery());
        Assert.False(FullTextQuery.From("espresso wa").LastIsPrefix);
    }

    [Theory]
    [InlineData("refund\" OR title:secret NEAR(a b) -x ^y *", new[] { "refund", "title", "secret", "near", "b", "x", "y" })]
    [InlineData("'); DROP TABLE knowledge_chunks; --", new[] { "drop", "table", "knowledge", "chunks" })]
    [InlineData("x & y | !z <-> w:*", new[] { "x", "y", "z", "w" })]
    public void QuerySyntaxInTheQuestion_IsJustPunctuation(string question, string[] expected)
    {
        var query = FullTextQuery.From(question);

        Assert.Equal(expected, query.Terms);
        Assert.All(query.Terms, term => Assert.True(term.All(char.IsLetterOrDigit), term));
    }

    [Fact]
    public void Words_AreLowerCased_DeduplicatedAndBounded()
    {
        Assert.Equal(["café", "crème", "42"], FullTextQuery.From("Café CRÈME café 42").Terms);
        Assert.Equal(64, Assert.Single(FullTextQuery.From(new string('x', 500)).Terms).Length);
        Assert.Equal(24, FullTextQuery.From(string.Join(" ", Enumerable.Range(0, 100).Select(i => $"word{i}"))).Terms.Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ?! ")]
    [InlineData("what is it and how?")]
    public void NoContentWords_MakeAnEmptyQuery(string question) => Assert.True(FullTextQuery.From(question).IsEmpty);
}
