using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Providers;

/// <summary>Turning Langflow exports into versions: every shared example, the refusals, and hostile files.</summary>
public class FlowImportTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    public static TheoryData<string> RunnableExamples => new()
    {
        "Basic Prompting.json", "Document Q&A.json", "Financial Report Parser.json", "Memory Chatbot.json", "MemoryChatbotNoLLM.json",
        "Simple Agent.json", "SimpleAPITest.json", "Vector Store RAG.json", "simple_chat_no_llm.json",
    };

    [Theory]
    [MemberData(nameof(RunnableExamples))]
    public async Task Import_RunnableExample_BecomesTheCurrentVersion_StoredByteForByte(string example)
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();

        var imported = await seller.ImportExampleAsync(agent, example, changelog: "First release.");

        Assert.True(imported.GetProperty("report").GetProperty("runnable").GetBoolean());
        Assert.NotEmpty(imported.GetProperty("report").GetProperty("nodes").EnumerateArray());
        var version = imported.GetProperty("version");
        Assert.Equal("1.0.0", version.GetProperty("version").GetString());
        Assert.Equal(example, version.GetProperty("file_name").GetString());
        var details = await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/provider-agents/{agent}/"));
        Assert.Equal("1.0.0", details.GetProperty("current_version").GetString());
        var download = await seller.Client.GetAsync($"/api/provider-agents/{agent}/versions/{version.GetProperty("uuid").GetGuid()}/flow/");
        await Http.AssertStatusAsync(download, HttpStatusCode.OK);
        Assert.Equal(CatalogIntents.ExampleFlow(example), await download.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("LoopTest.json", "custom_code")]
    [InlineData("BasicChatwithPromptandHistory.json", "legacy_format")]
    public async Task Import_NotRunnableExample_IsRefusedWithTheReport_AndStoresNothing(string example, string issue)
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();

        var problem = await Http.AssertProblemAsync(await seller.UploadFlowAsync(agent, CatalogIntents.ExampleFlow(example), example),
            HttpStatusCode.UnprocessableEntity, "flow_not_runnable");

        var report = problem.GetProperty("report");
        Assert.False(report.GetProperty("runnable").GetBoolean());
        Assert.Contains(report.GetProperty("issues").EnumerateArray(), i => i.GetProperty("code").GetString() == issue && i.GetProperty("severity").GetString() == "error");
        Assert.Empty((await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/provider-agents/{agent}/versions/"))).EnumerateArray());
    }

    [Fact]
    public async Task AFlowWithoutComponents_IsNotRunnable()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();

        var problem = await Http.AssertProblemAsync(await seller.UploadFlowAsync(agent, """{"nodes":[],"edges":[]}"""u8.ToArray(), "empty.json"),
            HttpStatusCode.UnprocessableEntity, "flow_not_runnable");

        Assert.Contains(problem.GetProperty("report").GetProperty("issues").EnumerateArray(), i => i.GetProperty("code").GetString() == "empty_flow");
        Assert.Empty((await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/provider-agents/{agent}/versions/"))).EnumerateArray());
    }

    [Fact]
    public async Task ValidateFlow_AnswersTheReportNodeByNode_WithoutStoringAVersion()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();

        var loop = await Http.ReadJsonAsync(await seller.UploadFlowAsync(agent, CatalogIntents.ExampleFlow("LoopTest.json"), action: "validate_flow"));
        Assert.False(loop.GetProperty("runnable").GetBoolean());
        Assert.Contains(loop.GetProperty("nodes").EnumerateArray(), n => n.GetProperty("status").GetString() == "custom_code");

        // The raw body works too, as Langflow's own API posts flows.
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/provider-agents/{agent}/validate_flow/")
        {
            Content = new ByteArrayContent(CatalogIntents.ExampleFlow("Basic Prompting.json")) { Headers = { ContentType = new("application/json") } },
        };
        var basic = await Http.ReadJsonAsync(await seller.Client.SendAsync(request));
        Assert.True(basic.GetProperty("runnable").GetBoolean());
        Assert.Equal(["ChatInput", "Prompt", "ChatOutput", "LanguageModelComponent"], basic.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("type").GetString()!).ToArray());
        Assert.Empty((await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/provider-agents/{agent}/versions/"))).EnumerateArray());
    }

    [Fact]
    public async Task Import_WithoutAVersion_IncrementsTheMinor_AndExplicitVersionsMustMoveForward()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        await seller.ImportExampleAsync(agent);
        var second = await seller.ImportExampleAsync(agent, "simple_chat_no_llm.json");
        Assert.Equal("1.1.0", second.GetProperty("version").GetProperty("version").GetString());
        var patch = await seller.ImportExampleAsync(agent, version: "1.1.1", changelog: "Fix the greeting.");
        Assert.Equal("1.1.1", patch.GetProperty("version").GetProperty("version").GetString());

        await Http.AssertProblemAsync(await seller.UploadFlowAsync(agent, CatalogIntents.ExampleFlow("Basic Prompting.json"), version: "1.1.1"), HttpStatusCode.Conflict, "version_not_newer");
        await Http.AssertProblemAsync(await seller.UploadFlowAsync(agent, CatalogIntents.ExampleFlow("Basic Prompting.json"), version: "1.0.9"), HttpStatusCode.Conflict, "version_not_newer");
        await Http.AssertProblemAsync(await seller.UploadFlowAsync(agent, CatalogIntents.ExampleFlow("Basic Prompting.json"), version: "2.0"), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await seller.UploadFlowAsync(agent, CatalogIntents.ExampleFlow("Basic Prompting.json"), version: "01.2.3"), HttpStatusCode.BadRequest, "validation_failed");

        var versions = (await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/provider-agents/{agent}/versions/"))).EnumerateArray().ToList();
        Assert.Equal(["1.1.1", "1.1.0", "1.0.0"], versions.Select(v => v.GetProperty("version").GetString()!).ToArray());
        Assert.Equal("Fix the greeting.", versions[0].GetProperty("changelog").GetString());
        Assert.Equal([true, false, false], versions.Select(v => v.GetProperty("current").GetBoolean()).ToArray());
    }

    [Fact]
    public async Task Import_ASixtyMegabyteUpload_IsRefusedWith413()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        var huge = new byte[60 * 1024 * 1024];
        Array.Fill(huge, (byte)' ');

        await Http.AssertProblemAsync(await seller.UploadFlowAsync(agent, huge), HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        await Http.AssertProblemAsync(await seller.UploadFlowAsync(agent, huge, action: "validate_flow"), HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
    }

    [Fact]
    public async Task Import_AFileJustOverTheFiveMegabyteLimit_IsRefusedWith413()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        var padded = Encoding.UTF8.GetBytes("{\"data\": {\"nodes\": [], \"edges\": []}, \"padding\": \"" + new string('x', 5 * 1024 * 1024) + "\"}");

        await Http.AssertProblemAsync(await seller.UploadFlowAsync(agent, padded), HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
    }

    [Fact]
    public async Task Import_ANonJsonFile_IsRefusedWithAnInvalidJsonReport()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        var png = new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13 };

        var problem = await Http.AssertProblemAsync(await seller.UploadFlowAsync(agent, png, "picture.png"), HttpStatusCode.UnprocessableEntity, "flow_not_runnable");

        Assert.Equal("invalid_json", problem.GetProperty("report").GetProperty("issues")[0].GetProperty("code").GetString());
    }

    [Fact]
    public async Task Import_AFlowWithTenThousandNodes_IsRefused()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        var outputs = new[] { new { name = "message", types = new[] { "Message" } } };
        var nodes = Enumerable.Range(0, 10_000).Select(i => new
        {
            id = $"ChatOutput-{i}",
            type = "genericNode",
            data = new { id = $"ChatOutput-{i}", type = "ChatOutput", node = new { template = new { input_value = new { type = "str", value = "hi", show = true } }, outputs } },
        });
        var flow = JsonSerializer.SerializeToUtf8Bytes(new { data = new { nodes, edges = Array.Empty<object>() } });
        Assert.True(flow.Length < 5 * 1024 * 1024);

        var problem = await Http.AssertProblemAsync(await seller.UploadFlowAsync(agent, flow), HttpStatusCode.UnprocessableEntity, "flow_not_runnable");

        Assert.Equal("flow_too_large", problem.GetProperty("report").GetProperty("issues")[0].GetProperty("code").GetString());
    }

    [Fact]
    public async Task Import_MultipartWithoutAFile_Returns400()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        var form = new MultipartFormDataContent { { new StringContent("1.0.0"), "version" } };

        await Http.AssertProblemAsync(await seller.Client.PostAsync($"/api/provider-agents/{agent}/import_flow/", form), HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task Import_IntoAnArchivedAgent_Returns409()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        await Http.AssertStatusAsync(await seller.Client.PostAsync($"/api/provider-agents/{agent}/archive/", null), HttpStatusCode.OK);

        await Http.AssertProblemAsync(await seller.UploadFlowAsync(agent, CatalogIntents.ExampleFlow("Basic Prompting.json")), HttpStatusCode.Conflict, "agent_archived");
    }

    [Fact]
    public async Task Import_ByAPlainMember_IsForbidden()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        var member = await app.JoinAsync(seller, "member");

        await Http.AssertProblemAsync(await member.UploadFlowAsync(agent, CatalogIntents.ExampleFlow("Basic Prompting.json")), HttpStatusCode.Forbidden, "insufficient_role");
        await Http.AssertStatusAsync(await member.Client.GetAsync($"/api/provider-agents/{agent}/"), HttpStatusCode.OK);
    }
}
