using System.Net;
using System.Text;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Tests.Knowledge;

namespace AgentMarket.Tests.Buyer;

/// <summary>The Configure page's Training tab: the subscription's own knowledge, managed without JavaScript.</summary>
public class TrainingTabTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    [Fact]
    public async Task ABuyer_AddsAQuestionAndUploadsADocument_SeesThemProcessed_AndDeletesOne()
    {
        var subscribed = await app.SubscribedAsync(await app.KnowledgeAgentAsync());
        var tab = $"/my-agents/{subscribed.Config}/configure/training";
        var client = subscribed.Buyer.Client;
        var empty = await client.HtmlAsync(tab);
        Assert.Contains("Nothing yet.", empty, StringComparison.Ordinal);
        Assert.Contains("data-max-bytes=\"20971520\" data-too-large=\"Training files can be at most 20 MB.\"", empty, StringComparison.Ordinal);
        Assert.Contains("TXT, Markdown, HTML, PDF, DOCX or CSV, up to 20 MB.</small>", empty, StringComparison.Ordinal);

        var added = await client.SubmitAsync(tab, "training-qa", new() { ["question"] = "When is the shop open?", ["answer"] = "Monday to Friday, nine to five." });
        PageForms.AssertRedirect(added, $"{tab}?training=added");
        var uploaded = await UploadAsync(client, tab, "returns.md", "# Returns\n\nReturns are accepted within 30 days with the receipt."u8.ToArray());
        PageForms.AssertRedirect(uploaded, $"{tab}?training=added");

        await app.ProcessDocumentsAsync();
        var html = await client.HtmlAsync($"{tab}?training=added");
        Assert.Contains("It is processed in the background", html, StringComparison.Ordinal);
        Assert.Contains("When is the shop open?", html, StringComparison.Ordinal);
        Assert.Contains("returns.md", html, StringComparison.Ordinal);
        Assert.Equal(2, CountOf(html, "data-document-state=\"ready\""));

        var knowledgeBase = (await Http.ReadJsonAsync(await client.GetAsync($"/api/customer-agent-configs/{subscribed.Config}"))).GetProperty("knowledge_base").GetGuid();
        Assert.NotEmpty(await subscribed.Buyer.SearchAsync(knowledgeBase, "returns receipt"));

        var documents = await Http.ReadJsonAsync(await client.GetAsync($"/api/training-documents/?knowledge_base={knowledgeBase}"));
        var upload = documents.GetProperty("items").EnumerateArray().Single(d => d.GetProperty("kind").GetString() == "file").Uuid();
        var deleted = await client.SubmitAsync(tab, "training-document", new() { ["delete"] = upload.ToString() });
        PageForms.AssertRedirect(deleted, $"{tab}?training=deleted");
        await Http.AssertStatusAsync(await client.GetAsync($"/api/training-documents/{upload}"), HttpStatusCode.NotFound);
        Assert.Empty(await subscribed.Buyer.SearchAsync(knowledgeBase, "returns receipt"));
        Assert.DoesNotContain("returns.md", await client.HtmlAsync(tab), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAgentThatDoesNotReadTheBuyersDocuments_SaysSo_AndTakesNone()
    {
        var subscribed = await app.SubscribedAsync(); // a prompt agent: no knowledge-base field declared
        var tab = $"/my-agents/{subscribed.Config}/configure/training";
        var html = await subscribed.Buyer.Client.HtmlAsync(tab);
        Assert.Contains("does not read documents of yours", html, StringComparison.Ordinal);
        Assert.DoesNotContain("value=\"training-qa\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("value=\"training-upload\"", html, StringComparison.Ordinal);
        var config = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/customer-agent-configs/{subscribed.Config}"));
        Assert.False(config.GetProperty("knowledge_base_used").GetBoolean());

        var reading = await app.SubscribedAsync(await app.KnowledgeAgentAsync());
        Assert.True((await Http.ReadJsonAsync(await reading.Buyer.Client.GetAsync($"/api/customer-agent-configs/{reading.Config}"))).GetProperty("knowledge_base_used").GetBoolean());
    }

    [Fact]
    public async Task AnUnsupportedFile_IsRefusedWithTheReason_AndNothingIsStored()
    {
        var subscribed = await app.SubscribedAsync(await app.KnowledgeAgentAsync());
        var tab = $"/my-agents/{subscribed.Config}/configure/training";

        var refused = await UploadAsync(subscribed.Buyer.Client, tab, "tool.exe", [0x4D, 0x5A, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0xFF, 0xFE, 0x00, 0x01]);

        await Http.AssertStatusAsync(refused, HttpStatusCode.OK);
        Assert.Contains("Upload a TXT, Markdown, HTML, PDF, DOCX or CSV file", await refused.HtmlAsync(), StringComparison.Ordinal);
        Assert.Contains("Nothing yet.", await subscribed.Buyer.Client.HtmlAsync(tab), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEmptyFile_IsRefusedAsEmpty()
    {
        var subscribed = await app.SubscribedAsync(await app.KnowledgeAgentAsync());
        var tab = $"/my-agents/{subscribed.Config}/configure/training";
        var refused = await UploadAsync(subscribed.Buyer.Client, tab, "empty.txt", []);
        Assert.Contains("empty.txt is empty", await refused.HtmlAsync(), StringComparison.Ordinal);
        Assert.Contains("Nothing yet.", await subscribed.Buyer.Client.HtmlAsync(tab), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnotherOrganizationsDocument_CannotBeDeletedThroughItsOwnTab()
    {
        var victim = await app.SubscribedAsync(await app.KnowledgeAgentAsync());
        var victimBase = (await Http.ReadJsonAsync(await victim.Buyer.Client.GetAsync($"/api/customer-agent-configs/{victim.Config}"))).GetProperty("knowledge_base").GetGuid();
        var secret = (await victim.Buyer.AddQaAsync(victimBase, "What is the door code?", "4711")).Uuid();
        var attacker = await app.SubscribedAsync(victim.Agent);
        var attackerTab = $"/my-agents/{attacker.Config}/configure/training";
        await attacker.Buyer.Client.SubmitAsync(attackerTab, "training-qa", new() { ["question"] = "Mine?", ["answer"] = "Yes." });

        var attempt = await attacker.Buyer.Client.SubmitAsync(attackerTab, "training-document", new() { ["delete"] = secret.ToString() });

        await Http.AssertStatusAsync(attempt, HttpStatusCode.OK);
        Assert.Contains("That document is not in this agent's knowledge.", await attempt.HtmlAsync(), StringComparison.Ordinal);
        Assert.Equal("What is the door code?", (await victim.Buyer.DocumentAsync(secret)).GetProperty("question").GetString());
    }

    /// <summary>Posts the tab's upload form as a browser does: multipart, with the page's antiforgery token.</summary>
    static async Task<HttpResponseMessage> UploadAsync(HttpClient client, string tab, string fileName, byte[] content)
    {
        var page = await client.GetStringAsync(tab);
        using var form = new MultipartFormDataContent
        {
            { new StringContent("training-upload"), "_handler" },
            { new StringContent(Forms.HiddenValue(page, "__RequestVerificationToken")), "__RequestVerificationToken" },
            { new ByteArrayContent(content), "file", fileName },
        };
        return await client.PostAsync(tab, form);
    }

    static int CountOf(string html, string marker)
    {
        var count = 0;
        for (var at = html.IndexOf(marker, StringComparison.Ordinal); at >= 0; at = html.IndexOf(marker, at + marker.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }
}
