using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Providers;

public class ProviderAgentTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    static readonly string[] OneOption = ["a"];

    [Fact]
    public async Task Create_List_Get_Patch_Archive()
    {
        var (seller, _) = await app.SellerAsync();
        var created = await Http.ReadJsonAsync(await seller.Client.PostAsJsonAsync("/api/provider-agents/", new { name = "  Tax Helper ", description = "Explains tax forms.", category = "Assistants" }), HttpStatusCode.Created);
        var id = created.GetProperty("uuid").GetGuid();
        Assert.Equal("Tax Helper", created.GetProperty("name").GetString());
        Assert.Equal("assistants", created.GetProperty("category").GetString());
        Assert.Equal("active", created.GetProperty("state").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, created.GetProperty("current_version").ValueKind);

        var patched = await Http.ReadJsonAsync(await seller.Client.PatchAsJsonAsync($"/api/provider-agents/{id}/", new { name = "Tax Guide", category = "agents" }));
        Assert.Equal("Tax Guide", patched.GetProperty("name").GetString());
        Assert.Equal("Explains tax forms.", patched.GetProperty("description").GetString());
        Assert.Equal("agents", patched.GetProperty("category").GetString());

        var list = await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/provider-agents/"));
        Assert.Equal(1, list.GetProperty("total").GetInt32());
        Assert.Equal(id, list.GetProperty("items")[0].GetProperty("uuid").GetGuid());

        var archived = await Http.ReadJsonAsync(await seller.Client.PostAsync($"/api/provider-agents/{id}/archive/", null));
        Assert.Equal("archived", archived.GetProperty("state").GetString());
        await Http.AssertProblemAsync(await seller.Client.PatchAsJsonAsync($"/api/provider-agents/{id}/", new { name = "Again" }), HttpStatusCode.Conflict, "agent_archived");
        Assert.Equal(0, (await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/provider-agents/?state=active"))).GetProperty("total").GetInt32());
        Assert.Equal(1, (await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/provider-agents/?state=archived"))).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Create_WithoutBeingAProvider_Returns403()
    {
        var buyer = await app.SignUpAsync();
        await Http.AssertProblemAsync(await buyer.Client.PostAsJsonAsync("/api/provider-agents/", new { name = "X", category = "agents" }), HttpStatusCode.Forbidden, "provider_required");
    }

    [Fact]
    public async Task Create_InAnUnknownCategory_Returns400NamingTheField()
    {
        var (seller, _) = await app.SellerAsync();
        var problem = await Http.AssertProblemAsync(await seller.Client.PostAsJsonAsync("/api/provider-agents/", new { name = "X", category = "weapons" }), HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty("category", out _));
    }

    [Fact]
    public async Task Templates_AreListedForAnyone_AndEachStartsAnAgentAtVersion1()
    {
        var templates = await Http.ReadJsonAsync(await app.CreateClient().GetAsync("/api/provider-agents/templates/"));
        var keys = templates.EnumerateArray().Select(t => t.GetProperty("key").GetString()!).ToList();
        Assert.Equal(["knowledge_base_assistant", "prompt_assistant", "webhook_automation"], keys);

        var (seller, _) = await app.SellerAsync();
        foreach (var key in keys)
        {
            var agent = await Http.ReadJsonAsync(await seller.Client.PostAsJsonAsync("/api/provider-agents/from_template/", new { template = key }), HttpStatusCode.Created);
            Assert.Equal("1.0.0", agent.GetProperty("current_version").GetString());
            var versions = await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/provider-agents/{agent.GetProperty("uuid").GetGuid()}/versions/"));
            Assert.StartsWith("Created from the", versions[0].GetProperty("changelog").GetString(), StringComparison.Ordinal);
        }
        var started = (await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/provider-agents/"))).GetProperty("items").EnumerateArray().ToList();
        var automation = started.Single(a => a.GetProperty("name").GetString() == "Webhook automation");
        Assert.Equal("automations", automation.GetProperty("category").GetString());
        // Each template comes with the settings its buyers need, such as their own knowledge base.
        var knowledge = started.Single(a => a.GetProperty("name").GetString() == "Knowledge-base assistant").GetProperty("uuid").GetGuid();
        var fields = await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/provider-agents/{knowledge}/configurable_fields/"));
        Assert.Equal([("knowledge_base", "knowledge_base"), ("system_prompt", "long_text"), ("bot_name", "text")],
            fields.EnumerateArray().Select(f => (f.GetProperty("key").GetString()!, f.GetProperty("kind").GetString()!)).ToArray());

        await Http.AssertProblemAsync(await seller.Client.PostAsJsonAsync("/api/provider-agents/from_template/", new { template = "crypto_trader" }), HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task Rollback_MakesAnEarlierVersionCurrent_AtOnce_ForTheListingToo()
    {
        var published = await app.PublishedAgentAsync();
        var seller = published.Seller;
        await seller.ImportExampleAsync(published.AgentId, "simple_chat_no_llm.json", changelog: "Echo mode.");
        var details = await app.DetailsAsync(published.Slug);
        Assert.Equal("1.1.0", details.GetProperty("current_version").GetString());
        Assert.Equal(["1.1.0", "1.0.0"], details.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("version").GetString()!).ToArray());
        Assert.Equal("Echo mode.", details.GetProperty("versions")[0].GetProperty("changelog").GetString());

        var rolledBack = await Http.ReadJsonAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{published.AgentId}/rollback/", new { version = "1.0.0" }));
        Assert.Equal("1.0.0", rolledBack.GetProperty("current_version").GetString());
        details = await app.DetailsAsync(published.Slug);
        Assert.Equal("1.0.0", details.GetProperty("current_version").GetString());
        // The withdrawn release is no longer offered.
        Assert.Equal(["1.0.0"], details.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("version").GetString()!).ToArray());
        var listing = await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/provider-agents/{published.AgentId}/listing/"));
        Assert.Equal("1.0.0", listing.GetProperty("served_version").GetString());

        // Rolling forward again is a rollback to the newer version.
        await Http.AssertStatusAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{published.AgentId}/rollback/", new { version = "1.1.0" }), HttpStatusCode.OK);
        Assert.Equal("1.1.0", (await app.DetailsAsync(published.Slug)).GetProperty("current_version").GetString());

        await Http.AssertProblemAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{published.AgentId}/rollback/", new { version = "0.9.0" }), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{published.AgentId}/rollback/", new { }), HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task AgentPage_ServesAnEarlierVersion_ThroughItsOneForm_AndAVersionServedOrAnAgentArchivedAfterThePageWasRead_IsSaidSo()
    {
        var published = await app.PublishedAgentAsync();
        var seller = published.Seller;
        await seller.ImportExampleAsync(published.AgentId, "simple_chat_no_llm.json", changelog: "Echo mode.");
        var url = $"/provider/agents/{published.AgentId}";

        PageForms.AssertRedirect(await seller.Client.SubmitAsync(url, "version-action", new() { ["serve"] = "1.0.0" }), $"{url}?done=served");
        Assert.Equal("1.0.0", (await app.DetailsAsync(published.Slug)).GetProperty("current_version").GetString());

        // Served through the API after the page was read: the page's Serve button still posts its form, and changes nothing.
        var page = await seller.Client.HtmlAsync(url);
        Assert.Contains("name=\"serve\" value=\"1.1.0\"", page, StringComparison.Ordinal);
        await Http.AssertStatusAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{published.AgentId}/rollback/", new { version = "1.1.0" }), HttpStatusCode.OK);
        var served = await seller.Client.SubmitFromPageAsync(url, page, "version-action", new() { ["serve"] = "1.1.0" });
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Contains("That version is already served: nothing changed.", await served.HtmlAsync(), StringComparison.Ordinal);
        var unknown = await seller.Client.SubmitFromPageAsync(url, page, "version-action", new() { ["serve"] = "9.9.9" });
        Assert.Contains("Choose one of this agent's versions to serve.", await unknown.HtmlAsync(), StringComparison.Ordinal);

        // Archived after the page was read: nothing can be served any more.
        page = await seller.Client.HtmlAsync(url);
        Assert.Contains("name=\"serve\" value=\"1.0.0\"", page, StringComparison.Ordinal);
        await Http.AssertStatusAsync(await seller.Client.PostAsync($"/api/provider-agents/{published.AgentId}/archive/", null), HttpStatusCode.OK);
        var archived = await seller.Client.SubmitFromPageAsync(url, page, "version-action", new() { ["serve"] = "1.0.0" });
        Assert.Equal(HttpStatusCode.OK, archived.StatusCode);
        Assert.Contains("This agent was archived: its versions can no longer be served.", await archived.HtmlAsync(), StringComparison.Ordinal);
        Assert.Equal("1.1.0", (await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/provider-agents/{published.AgentId}/"))).GetProperty("current_version").GetString());
    }

    [Fact]
    public async Task FieldsPage_TurnsATextFieldIntoAChoice_WithTheOptionsTheSellerTypes()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        await seller.ImportExampleAsync(agent);
        var url = $"/provider/agents/{agent}/fields";
        var page = await seller.Client.HtmlAsync(url);
        var row = page.Split("<tr>").Single(r => r.Contains("<code>ChatOutput-hJNhd / sender_name</code>", StringComparison.Ordinal));
        var index = System.Text.RegularExpressions.Regex.Match(row, "name=\"on-(\\d+)\"").Groups[1].Value;

        var saved = await seller.Client.SubmitAsync(url, "configurable-fields", new()
        {
            [$"on-{index}"] = "true",
            [$"key-{index}"] = "speaker",
            [$"label-{index}"] = "Who speaks",
            [$"kind-{index}"] = "choice",
            [$"default-{index}"] = "Rex",
            [$"options-{index}"] = "Rex\r\n  Max \r\n\r\n",
        });
        PageForms.AssertRedirect(saved, $"{url}?saved");

        var declared = Assert.Single((await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/provider-agents/{agent}/configurable_fields/"))).EnumerateArray());
        Assert.Equal(("speaker", "choice", "Rex"), (declared.GetProperty("key").GetString(), declared.GetProperty("kind").GetString(), declared.GetProperty("default_value").GetString()));
        Assert.Equal(["Rex", "Max"], declared.GetProperty("options").EnumerateArray().Select(o => o.GetString()));
        Assert.Contains("Rex\nMax</textarea>", await seller.Client.HtmlAsync(url), StringComparison.Ordinal);

        // A default that is not one of the options is refused, and nothing is replaced.
        var refused = await (await seller.Client.SubmitAsync(url, "configurable-fields", new()
        {
            [$"on-{index}"] = "true",
            [$"key-{index}"] = "speaker",
            [$"label-{index}"] = "Who speaks",
            [$"kind-{index}"] = "choice",
            [$"default-{index}"] = "Bella",
            [$"options-{index}"] = "Rex\nMax",
        })).HtmlAsync();
        Assert.Contains("Pick one of the options.", refused, StringComparison.Ordinal);
        Assert.Equal("Rex", Assert.Single((await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/provider-agents/{agent}/configurable_fields/"))).EnumerateArray())
            .GetProperty("default_value").GetString());

        // A field with options of its own (a Langflow dropdown) accepts only those: another would fail the buyer's runs.
        object Sender(string[] options) => new { fields = new[] { new { key = "sender", node_id = "ChatOutput-hJNhd", field_name = "sender", label = "Sender", kind = "choice", default_value = "Machine", options } } };
        var foreign = await seller.Client.PutAsJsonAsync($"/api/provider-agents/{agent}/configurable_fields/", Sender(["Machine", "Robot"]));
        Assert.Contains("accepts only its own options", (await Http.AssertProblemAsync(foreign, HttpStatusCode.BadRequest, "validation_failed")).GetRawText(), StringComparison.Ordinal);
        await Http.AssertStatusAsync(await seller.Client.PutAsJsonAsync($"/api/provider-agents/{agent}/configurable_fields/", Sender(["Machine"])), HttpStatusCode.OK);
    }

    [Fact]
    public async Task ConfigurableFields_AreDeclaredFromTheCurrentFlowsFields()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        await Http.AssertProblemAsync(await seller.Client.GetAsync($"/api/provider-agents/{agent}/configurable_fields/candidates/"), HttpStatusCode.Conflict, "no_version");
        await seller.ImportExampleAsync(agent);

        var candidates = (await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/provider-agents/{agent}/configurable_fields/candidates/"))).EnumerateArray().ToList();
        var template = candidates.Single(c => c.GetProperty("node_id").GetString() == "Prompt-xvuxC" && c.GetProperty("field_name").GetString() == "template");
        Assert.Equal("long_text", template.GetProperty("suggested_kind").GetString());
        Assert.Contains(candidates, c => c.GetProperty("node_id").GetString() == "ChatOutput-hJNhd" && c.GetProperty("field_name").GetString() == "sender_name");
        // Fields fed by an edge would ignore a buyer's value, so they are not offered.
        Assert.DoesNotContain(candidates, c => c.GetProperty("node_id").GetString() == "LanguageModelComponent-LsJMR" && c.GetProperty("field_name").GetString() is "system_message" or "input_value");
        // Secrets, code and the run's own input are never offered.
        Assert.DoesNotContain(candidates, c => c.GetProperty("field_name").GetString() is "api_key" or "code" || (c.GetProperty("component_type").GetString() == "ChatInput" && c.GetProperty("field_name").GetString() == "input_value"));

        // Where a flow's documents come from is suggested as the buyer's knowledge base: a vector store's database, a File node's path.
        foreach (var (example, node, field) in new[] { ("Vector Store RAG.json", "AstraDB-BteL9", "database_name"), ("Document Q&A.json", "File-b2gOG", "path") })
        {
            var documentsAgent = await seller.CreateAgentAsync();
            await seller.ImportExampleAsync(documentsAgent, example);
            var offered = (await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/provider-agents/{documentsAgent}/configurable_fields/candidates/"))).EnumerateArray()
                .Single(c => c.GetProperty("node_id").GetString() == node && c.GetProperty("field_name").GetString() == field);
            Assert.Equal("knowledge_base", offered.GetProperty("suggested_kind").GetString());
        }

        var fields = new object[]
        {
            new { key = "persona", node_id = "Prompt-xvuxC", field_name = "template", label = "Persona", kind = "long_text", default_value = "You are helpful." },
            new { key = "bot_name", node_id = "ChatOutput-hJNhd", field_name = "sender_name", label = "Bot name", kind = "text", help_text = "Shown above answers." },
            new { key = "creativity", node_id = "LanguageModelComponent-LsJMR", field_name = "temperature", label = "Creativity", kind = "number", default_value = "0.4" },
        };
        var saved = await Http.ReadJsonAsync(await seller.Client.PutAsJsonAsync($"/api/provider-agents/{agent}/configurable_fields/", new { fields }));
        Assert.Equal(["persona", "bot_name", "creativity"], saved.EnumerateArray().Select(f => f.GetProperty("key").GetString()!).ToArray());
        var listed = await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/provider-agents/{agent}/configurable_fields/"));
        Assert.Equal("Shown above answers.", listed[1].GetProperty("help_text").GetString());

        var problem = await Http.AssertProblemAsync(await seller.Client.PutAsJsonAsync($"/api/provider-agents/{agent}/configurable_fields/", new
        {
            fields = new object[]
            {
                new { key = "secret", node_id = "LanguageModelComponent-LsJMR", field_name = "api_key", label = "Key", kind = "text" },
                new { key = "Bad Key", node_id = "Prompt-xvuxC", field_name = "template", label = "x", kind = "number" },
                new { key = "tone", node_id = "ChatOutput-hJNhd", field_name = "sender_name", label = "Tone", kind = "choice", options = OneOption, default_value = "b" },
            },
        }), HttpStatusCode.BadRequest, "validation_failed");
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("fields[0].field_name", out _), errors.ToString());
        Assert.True(errors.TryGetProperty("fields[1].key", out _), errors.ToString());
        Assert.True(errors.TryGetProperty("fields[1].kind", out _), errors.ToString());
        Assert.True(errors.TryGetProperty("fields[2].default_value", out _), errors.ToString());
        // A refused set changes nothing.
        Assert.Equal(3, (await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/provider-agents/{agent}/configurable_fields/"))).GetArrayLength());

        await Http.AssertStatusAsync(await seller.Client.PutAsJsonAsync($"/api/provider-agents/{agent}/configurable_fields/", new { fields = Array.Empty<object>() }), HttpStatusCode.OK);
        Assert.Equal(0, (await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/provider-agents/{agent}/configurable_fields/"))).GetArrayLength());
    }

    [Fact]
    public async Task ANewVersionLackingADeclaredField_IsRefused_UntilTheSellerChoosesToRemoveThatField()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        await seller.ImportExampleAsync(agent);
        var fields = new object[]
        {
            new { key = "persona", node_id = "Prompt-xvuxC", field_name = "template", label = "Persona", kind = "long_text" },
            new { key = "bot_name", node_id = "ChatOutput-hJNhd", field_name = "sender_name", label = "Bot name", kind = "text" },
        };
        await Http.AssertStatusAsync(await seller.Client.PutAsJsonAsync($"/api/provider-agents/{agent}/configurable_fields/", new { fields }), HttpStatusCode.OK);
        var echo = CatalogIntents.ExampleFlow("simple_chat_no_llm.json"); // other node ids: no prompt, another chat output

        var refused = await Http.AssertProblemAsync(await seller.UploadFlowAsync(agent, echo, "echo.json"), HttpStatusCode.Conflict, "declared_fields_missing");
        Assert.Equal(["persona", "bot_name"], refused.GetProperty("fields").EnumerateArray().Select(f => f.GetString()!).ToArray());
        Assert.Contains("“Persona” (template of Prompt-xvuxC)", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);
        // Nothing was stored: the version, the current one and the declarations are as they were.
        var versions = await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/provider-agents/{agent}/versions/"));
        Assert.Equal(["1.0.0"], versions.EnumerateArray().Select(v => v.GetProperty("version").GetString()!).ToArray());
        Assert.Equal(2, (await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/provider-agents/{agent}/configurable_fields/"))).GetArrayLength());

        // The seller's explicit choice: the import goes through and the declarations it lacks go with it.
        var page = $"/provider/agents/{agent}/import";
        var form = new MultipartFormDataContent
        {
            { new StringContent(Forms.HiddenValue(await seller.Client.HtmlAsync(page), "__RequestVerificationToken")), "__RequestVerificationToken" },
            { new StringContent("import-flow"), "_handler" },
            { new StringContent("import"), "intent" },
            { new ByteArrayContent(echo), "file", "echo.json" },
        };
        var offered = await (await seller.Client.PostAsync(page, form)).HtmlAsync();
        Assert.Contains("data-drop-missing-fields", offered, StringComparison.Ordinal);
        Assert.Contains("no field for what buyers configure as “Persona”", offered, StringComparison.Ordinal);

        var imported = await Http.ReadJsonAsync(await seller.Client.PostAsync($"/api/provider-agents/{agent}/import_flow/?drop_missing_fields=true",
            new ByteArrayContent(echo) { Headers = { ContentType = new("application/json") } }), HttpStatusCode.Created);
        Assert.Equal("1.1.0", imported.GetProperty("version").GetProperty("version").GetString());
        Assert.Equal(0, (await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/provider-agents/{agent}/configurable_fields/"))).GetArrayLength());
    }

    [Fact]
    public async Task ProviderProfile_IsEditable_WithAnUploadedAvatar()
    {
        var (seller, handle) = await app.SellerAsync();
        var image = await Http.ReadJsonAsync(await seller.Client.PostAsync("/api/catalog-images/", Images.Png()), HttpStatusCode.Created);

        var updated = await Http.ReadJsonAsync(await seller.Client.PatchAsJsonAsync("/api/providers/mine", new { bio = "We build helpful agents.", avatar_image = image.GetProperty("uuid").GetGuid() }));
        Assert.Equal(image.GetProperty("url").GetString(), updated.GetProperty("avatar_url").GetString());

        var profile = await Http.ReadJsonAsync(await app.CreateClient().GetAsync($"/api/providers/{handle}"));
        Assert.Equal("We build helpful agents.", profile.GetProperty("bio").GetString());
        Assert.Equal(image.GetProperty("url").GetString(), profile.GetProperty("avatar_url").GetString());

        var other = await app.SellerAsync();
        await Http.AssertProblemAsync(await other.Seller.Client.PatchAsJsonAsync("/api/providers/mine", new { avatar_image = image.GetProperty("uuid").GetGuid() }), HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task ConfigurableFields_OfATakenDownListing_AreFrozen_LikeTheRestOfTheAgent()
    {
        var agent = await app.PublishedAgentAsync();
        var fields = new { fields = new[] { new { key = "bot_name", node_id = "ChatOutput-hJNhd", field_name = "sender_name", label = "Bot name", kind = "text" } } };
        var operatorClient = await app.OperatorAsync();
        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/listings/{agent.ListingId}/take-down", new { reason = "Spam" }), HttpStatusCode.NoContent);

        await Http.AssertProblemAsync(await agent.Seller.Client.PutAsJsonAsync($"/api/provider-agents/{agent.AgentId}/configurable_fields/", fields),
            HttpStatusCode.Forbidden, "listing_taken_down");
        Assert.Empty((await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync($"/api/provider-agents/{agent.AgentId}/configurable_fields/"))).EnumerateArray());

        await Http.AssertStatusAsync(await operatorClient.PostAsync($"/api/admin/listings/{agent.ListingId}/restore", null), HttpStatusCode.NoContent);
        await Http.AssertStatusAsync(await agent.Seller.Client.PutAsJsonAsync($"/api/provider-agents/{agent.AgentId}/configurable_fields/", fields), HttpStatusCode.OK);
    }
}
