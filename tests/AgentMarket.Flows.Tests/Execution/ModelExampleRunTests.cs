using System.Net;
using System.Text.Json;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Services;
using AgentMarket.Flows.Tests.Support;
using AgentMarket.Flows.Values;
using AgentMarket.Testing.FakeOpenAi;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentMarket.Flows.Tests.Execution;

/// <summary>The examples that need a model, against the fake OpenAI server over HTTP, asserting what the model received.</summary>
public class ModelExampleRunTests(FakeModel model) : IClassFixture<FakeModel>
{
    static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task BasicPrompting_SendsThePromptAsSystemMessageAndTheInputAsUserTurn()
    {
        var server = model.Fresh().When("Tell me a joke", FakeReply.Say("Why did the GPU cross the road?") with { Usage = (42, 7) });
        var messages = new InMemoryMessageStore();

        var result = await FlowEngine.Default.RunAsync(
            Examples.Plan(Examples.BasicPrompting),
            new RunRequest { InputValue = "Tell me a joke", SessionId = "s-1" },
            TestServices.Create(TestServices.Client(server), messages),
            Ct);

        Assert.Equal(RunStatus.Succeeded, result.Status);
        Assert.Equal("Why did the GPU cross the road?", result.OutputText);
        var request = Assert.Single(server.Requests);
        Assert.Equal(
            [
                ("system", "Answer the user as if you were a GenAI expert, enthusiastic about helping them get started building something fresh."),
                ("user", "Tell me a joke"),
            ],
            request.Messages);
        Assert.Equal("fake-default", request.Model);
        Assert.Equal(0.1, request.Body.GetProperty("temperature").GetDouble(), 5);
        Assert.False(request.Stream);
        var modelRun = Assert.Single(result.Nodes, node => node.NodeId == "LanguageModelComponent-LsJMR");
        Assert.Equal((42L, 7L, 1), (modelRun.InputTokens, modelRun.OutputTokens, modelRun.ModelCalls));
        Assert.Equal("fake-default", modelRun.Model);
        Assert.Equal(["Tell me a joke", "Why did the GPU cross the road?"], messages.Snapshot().Select(message => message.Text));
    }

    [Fact]
    public async Task BasicPrompting_WithNoModelConfigured_FailsWithModelNotConfigured()
    {
        var result = await FlowEngine.Default.RunAsync(Examples.Plan(Examples.BasicPrompting), new RunRequest { InputValue = "hi" }, TestServices.Create(model: null), Ct);

        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.Equal(RunErrorCodes.ModelNotConfigured, result.Error?.Code);
        Assert.Equal("LanguageModelComponent-LsJMR", result.Error?.NodeId);
        Assert.StartsWith("Error running graph: Error building Component Language Model: \n\nNo language model is configured", result.Error?.LangflowMessage, StringComparison.Ordinal);
        Assert.Empty(result.Outputs);
    }

    [Fact]
    public async Task MemoryChatbot_PutsTheSessionHistoryIntoTheSystemPrompt()
    {
        var server = model.Fresh()
            .When("My name is Ada", FakeReply.Say("Nice to meet you, Ada."), times: 1)
            .When("What is my name", FakeReply.Say("Your name is Ada."));
        var services = TestServices.Create(TestServices.Client(server));
        var plan = Examples.Plan(Examples.MemoryChatbot);

        await FlowEngine.Default.RunAsync(plan, new RunRequest { InputValue = "My name is Ada", SessionId = "chat-1" }, services, Ct);
        var second = await FlowEngine.Default.RunAsync(plan, new RunRequest { InputValue = "What is my name?", SessionId = "chat-1" }, services, Ct);

        Assert.Equal("Your name is Ada.", second.OutputText);
        var request = server.Requests[1];
        Assert.Equal(
            "You are a helpful assistant that answer questions.\n\nUse markdown to format your answer, properly embedding images and urls.\n\n" +
            "History: \n\nUser: My name is Ada\nAI: Nice to meet you, Ada.\n",
            request.System);
        Assert.Equal("What is my name?", request.LastUser);
    }

    [Fact]
    public async Task DocumentQa_ReadsTheDocumentGivenByTweakIntoThePrompt()
    {
        var server = model.Fresh().When("refund", FakeReply.Say("Within 14 days."));
        using var folder = new TemporaryFolder();
        File.WriteAllText(Path.Combine(folder.Path, "policy.md"), "# Refunds\nRefunds are accepted within 14 days.");
        var tweaks = JsonDocument.Parse("""{"File-b2gOG": {"path": ["policy.md"]}}""").RootElement;

        var result = await FlowEngine.Default.RunAsync(
            Examples.Plan(Examples.DocumentQa),
            new RunRequest { InputValue = "How long do I have for a refund?", Tweaks = tweaks },
            TestServices.Create(TestServices.Client(server), documents: new PlainTextDocumentReader(folder.Path)),
            Ct);

        Assert.Equal("Within 14 days.", result.OutputText);
        Assert.Equal(
            "Answer user's questions based on the document below:\n\n---\n\n# Refunds\nRefunds are accepted within 14 days.\n\n---\n\nQuestion:",
            Assert.Single(server.Requests).System);
    }

    [Fact]
    public async Task DocumentQa_WithoutADocument_FailsWithAClearError()
    {
        var server = model.Fresh();
        using var folder = new TemporaryFolder();

        var result = await FlowEngine.Default.RunAsync(
            Examples.Plan(Examples.DocumentQa),
            new RunRequest { InputValue = "Question?" },
            TestServices.Create(TestServices.Client(server), documents: new PlainTextDocumentReader(folder.Path)),
            Ct);

        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.Equal((RunErrorCodes.DocumentError, "File-b2gOG"), (result.Error?.Code, result.Error?.NodeId));
        Assert.Contains("{\"File-b2gOG\": {\"path\": [\"<file>\"]}}", result.Error?.Message, StringComparison.Ordinal);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task FinancialReportParser_AsksForTheTableSchemaAndParsesTheValidatedObjects()
    {
        var server = model.Fresh().When(
            "Revenue",
            FakeReply.Say("""{"objects":[{"EBITDA":"$1.2M","NET_INCOME":"$0.4M","GROSS_PROFIT":"$3.1M"}]}"""));

        var result = await FlowEngine.Default.RunAsync(
            Examples.Plan(Examples.FinancialReportParser),
            new RunRequest { InputValue = "Revenue 10M, gross profit 3.1M, EBITDA 1.2M, net income 0.4M." },
            TestServices.Create(TestServices.Client(server)),
            Ct);

        Assert.Equal(RunStatus.Succeeded, result.Status);
        Assert.Equal("EBITDA: $1.2M  ,  Net Income: $0.4M , GROSS_PROFIT: $3.1M", result.OutputText);
        var format = Assert.Single(server.Requests).ResponseFormat!.Value;
        Assert.Equal("json_schema", format.GetProperty("type").GetString());
        var item = format.GetProperty("json_schema").GetProperty("schema").GetProperty("properties").GetProperty("objects").GetProperty("items");
        Assert.Equal(["EBITDA", "NET_INCOME", "GROSS_PROFIT"], item.GetProperty("properties").EnumerateObject().Select(property => property.Name));
        Assert.StartsWith("You are an AI that extracts structured JSON objects", server.Requests[0].System, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FinancialReportParser_OutputThatBreaksTheSchema_FailsTheRun()
    {
        var server = model.Fresh().Otherwise(FakeReply.Say("""{"objects":[{"EBITDA":12,"NET_INCOME":"x","GROSS_PROFIT":"y"}]}"""));

        var result = await FlowEngine.Default.RunAsync(
            Examples.Plan(Examples.FinancialReportParser),
            new RunRequest { InputValue = "numbers" },
            TestServices.Create(TestServices.Client(server)),
            Ct);

        Assert.Equal(RunErrorCodes.InvalidModelOutput, result.Error?.Code);
        Assert.Contains("\"EBITDA\" must be a string", result.Error?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SimpleAgent_CallsTheCalculatorAndAnswersWithItsResult()
    {
        var server = model.Fresh()
            .When("{\"result\":\"16\"}", FakeReply.Say("4*4*(33/22)+12-20 is 16."))
            .When("What is 4*4*(33/22)+12-20?", FakeReply.Call("evaluate_expression", """{"expression":"4*4*(33/22)+12-20"}"""));

        var result = await FlowEngine.Default.RunAsync(
            Examples.Plan(Examples.SimpleAgent),
            new RunRequest { InputValue = "What is 4*4*(33/22)+12-20?" },
            TestServices.Create(TestServices.Client(server)),
            Ct);

        Assert.Equal(RunStatus.Succeeded, result.Status);
        Assert.Equal("4*4*(33/22)+12-20 is 16.", result.OutputText);
        Assert.Equal(2, server.Requests.Count);
        Assert.Equal(["evaluate_expression", "fetch_content", "get_current_date"], server.Requests[0].ToolNames.Order());
        Assert.Equal("You are a helpful assistant that can use tools to answer questions and perform tasks.", server.Requests[0].System);
        var toolRun = Assert.Single(result.Nodes, node => node.AsTool);
        Assert.Equal(("CalculatorComponent-hMbFw", NodeRunStatus.Succeeded), (toolRun.NodeId, toolRun.Status));
        var agent = Assert.Single(result.Nodes, node => node.NodeId == "Agent-D0Kx2");
        Assert.Equal(2, agent.ModelCalls);
        var answer = Assert.IsType<Message>(Assert.Single(Assert.Single(result.Outputs).Values).Value);
        var steps = Assert.Single(answer.ContentBlocks);
        Assert.Equal(["Input", "Executed **evaluate_expression**", "Output"], steps.Contents.Select(step => step.HeaderTitle));
    }

    [Fact]
    public async Task SimpleAgent_UrlToolAimedAtTheMetadataService_IsRefusedAndTheRefusalFedBack()
    {
        var server = model.Fresh()
            .When("not allowed", FakeReply.Say("I cannot fetch that address."))
            .When("instance metadata", FakeReply.Call("fetch_content", """{"urls":["http://169.254.169.254/latest/meta-data/"]}"""));

        var result = await FlowEngine.Default.RunAsync(
            Examples.Plan(Examples.SimpleAgent),
            new RunRequest { InputValue = "Read the instance metadata" },
            TestServices.Create(TestServices.Client(server)),
            Ct);

        Assert.Equal("I cannot fetch that address.", result.OutputText);
        var toolMessage = server.Requests[1].Messages.Single(message => message.Role == "tool");
        Assert.Equal("Error: Requests to \"169.254.169.254\" are not allowed: 169.254.169.254 is in the reserved range 169.254.0.0/16.", toolMessage.Text);
        var toolRun = Assert.Single(result.Nodes, node => node.AsTool);
        Assert.Equal((NodeRunStatus.Failed, RunErrorCodes.OutboundBlocked), (toolRun.Status, toolRun.ErrorCode));
    }

    [Fact]
    public async Task SimpleAgent_UrlToolOnAnAllowedHost_FetchesThePageText()
    {
        await using var site = await StaticSite.StartAsync("<html><head><title>Prices</title></head><body><h1>Plans</h1><p>Pro costs 20 dollars.</p><script>var x=1;</script></body></html>");
        var server = model.Fresh()
            .When("Pro costs 20 dollars", FakeReply.Say("Pro costs $20."))
            .When("price of Pro", FakeReply.Call("fetch_content", $$"""{"urls":["{{site.Url}}"]}"""));
        var services = TestServices.Create(TestServices.Client(server)) with { Outbound = TestServices.LoopbackAllowed };

        var result = await FlowEngine.Default.RunAsync(Examples.Plan(Examples.SimpleAgent), new RunRequest { InputValue = "What is the price of Pro?" }, services, Ct);

        Assert.Equal("Pro costs $20.", result.OutputText);
        var rows = JsonDocument.Parse(server.Requests[1].Messages.Single(message => message.Role == "tool").Text).RootElement;
        var page = Assert.Single(rows.EnumerateArray());
        Assert.Equal("PlansPro costs 20 dollars.", page.GetProperty("text").GetString());
        Assert.Equal("Prices", page.GetProperty("title").GetString());
    }

    [Fact]
    public async Task VectorStoreRag_RetrievesFromTheKnowledgeBaseIntoThePrompt()
    {
        var server = model.Fresh().When("Context:", FakeReply.Say("unused")).Otherwise(FakeReply.Say("Dogs need walks twice a day."));
        var knowledge = new InMemoryKnowledgeBase();
        await knowledge.IngestAsync(
            [
                new KnowledgeDocument("Dogs need walks twice a day.", System.Collections.Immutable.ImmutableDictionary<string, string>.Empty),
                new KnowledgeDocument("Cats sleep sixteen hours.", System.Collections.Immutable.ImmutableDictionary<string, string>.Empty),
            ],
            Ct);

        var result = await FlowEngine.Default.RunAsync(
            Examples.Plan(Examples.VectorStoreRag),
            new RunRequest { InputValue = "How often do dogs need walks?" },
            TestServices.Create(TestServices.Client(server), knowledge: knowledge),
            Ct);

        Assert.Equal(RunStatus.Succeeded, result.Status);
        Assert.Equal(
            "Text: Dogs need walks twice a day.\n\n---\n\nGiven the context above, answer the question as best as possible.\n\nQuestion: How often do dogs need walks?\n\nAnswer: ",
            Assert.Single(server.Requests).LastUser);
        Assert.DoesNotContain(result.Nodes, node => node.NodeId is "File-7D3hP" or "SplitText-4s7Dt" or "AstraDB-TCSqR");
    }

    /// <summary>A one-page web site on 127.0.0.1.</summary>
    sealed class StaticSite(WebApplication app, string url) : IAsyncDisposable
    {
        public string Url => url;

        public static async Task<StaticSite> StartAsync(string html)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            app.MapGet("/", () => Results.Content(html, "text/html"));
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new StaticSite(app, address.TrimEnd('/') + "/");
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
