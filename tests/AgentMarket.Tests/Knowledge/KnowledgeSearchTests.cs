using System.Net;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Knowledge;

/// <summary>Natural-language questions find the right chunk first, whatever characters they contain.</summary>
public class KnowledgeSearchTests(KnowledgeApp app) : IClassFixture<KnowledgeApp>
{
    static readonly (string Title, string Text)[] Handbook =
    [
        ("Shipping", "Orders ship from our warehouse in Rotterdam. Delivery to Germany, France and Belgium takes two to three business days; other EU countries take up to five days."),
        ("Returns", "You may return unused items within 30 days of delivery. Refunds are issued to the original payment method within five business days after we receive the parcel."),
        ("Warranty", "All espresso machines carry a two-year warranty against manufacturing defects. The warranty does not cover limescale damage."),
        ("Payment", "We accept Visa, Mastercard, PayPal and bank transfer. Payment is taken when the order ships."),
        ("Privacy", "We never sell your personal data. You can ask for a copy or the deletion of your data by emailing privacy@example.com."),
    ];

    async Task<(TestUser Buyer, Guid KnowledgeBase)> HandbookAsync()
    {
        var buyer = await app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync("Handbook");
        foreach (var (title, text) in Handbook)
        {
            await buyer.AddTopicAsync(knowledgeBase, title, text);
        }
        await app.ProcessDocumentsAsync();
        return (buyer, knowledgeBase);
    }

    [Theory]
    [InlineData("How long does delivery to Germany take?", "Shipping")]
    [InlineData("Can I get a refund if I return my order?", "Returns")]
    [InlineData("Is limescale covered by the warranty?", "Warranty")]
    [InlineData("Do you accept PayPal?", "Payment")]
    [InlineData("please delete my personal data", "Privacy")]
    [InlineData("espresso warr", "Warranty")]
    public async Task NaturalQuestion_FindsTheRightChunkFirst(string question, string expectedTitle)
    {
        var (buyer, knowledgeBase) = await HandbookAsync();

        var hits = await buyer.SearchAsync(knowledgeBase, question);

        Assert.Equal(expectedTitle, hits[0].GetProperty("title").GetString());
        Assert.Equal(hits.Select(h => h.GetProperty("score").GetDouble()).OrderByDescending(s => s), hits.Select(h => h.GetProperty("score").GetDouble()));
    }

    [Theory]
    [InlineData("refund\" OR title:secret NEAR(a b) -x ^y *")]
    [InlineData("'); DROP TABLE knowledge_chunks; --")]
    [InlineData("a & b | !c <-> d:* \\ \0")]
    [InlineData("what is it?")]
    public async Task QuestionsFullOfQuerySyntax_NeverFail(string question)
    {
        var (buyer, knowledgeBase) = await HandbookAsync();

        await Http.AssertStatusAsync(await buyer.Client.GetAsync($"/api/knowledge-bases/{knowledgeBase}/search?q={Uri.EscapeDataString(question)}"), HttpStatusCode.OK);
        Assert.Equal(Handbook.Length, (await Http.ReadJsonAsync(await buyer.Client.GetAsync($"/api/knowledge-bases/{knowledgeBase}"))).GetProperty("ready_documents").GetInt32());
    }

    [Fact]
    public async Task TopK_BoundsTheResults()
    {
        var (buyer, knowledgeBase) = await HandbookAsync();

        Assert.Equal(2, (await buyer.SearchAsync(knowledgeBase, "days delivery payment data warranty", topK: 2)).Count);
        Assert.Equal(5, (await buyer.SearchAsync(knowledgeBase, "days delivery payment data warranty", topK: 10)).Count);
    }
}
