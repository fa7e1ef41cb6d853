using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using AgentMarket.Flows.Compilation;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Tests.Support;
using AgentMarket.Testing.FakeOpenAi;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentMarket.Flows.Tests.Execution;

/// <summary>
/// A URL or API Request node called as a tool goes where the model says, but the headers the provider configured (its
/// keys) go only to the origin of the URL the provider configured (ADR-155).
/// </summary>
public class ToolCredentialTests(FakeModel model) : IClassFixture<FakeModel>
{
    static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    const string KeyHeader = "x-api-key";

    [Fact]
    public async Task UrlTool_SendsTheConfiguredKey_OnlyToTheConfiguredOrigin()
    {
        await using var provider = await RecordingSite.StartAsync();
        await using var elsewhere = await RecordingSite.StartAsync();
        var key = $"provider-key-{Guid.NewGuid():N}";
        var plan = AgentWithUrlTool(provider.Url("/"), key);

        await AskAsync(plan, "fetch_content", $$"""{"urls":["{{elsewhere.Url("/")}}"]}""");
        await AskAsync(plan, "fetch_content", $$"""{"urls":["{{provider.Url("/")}}"]}""");

        Assert.Equal([null], elsewhere.Seen.Select(request => request.Key));
        Assert.Equal([key], provider.Seen.Select(request => request.Key));
    }

    [Fact]
    public async Task UrlTool_DoesNotSendTheKey_ToAnotherOriginAPageLinksTo()
    {
        await using var elsewhere = await RecordingSite.StartAsync();
        await using var provider = await RecordingSite.StartAsync(linkTo: elsewhere.Url("/linked"));
        var key = $"provider-key-{Guid.NewGuid():N}";
        var plan = AgentWithUrlTool(provider.Url("/"), key, maxDepth: 2);

        await AskAsync(plan, "fetch_content", $$"""{"urls":["{{provider.Url("/")}}"]}""");

        Assert.Equal([("/", key)], provider.Seen.Select(request => (request.Path, request.Key)));
        Assert.Equal([("/linked", (string?)null)], elsewhere.Seen.Select(request => (request.Path, request.Key)));
    }

    [Fact]
    public async Task ApiRequestTool_SendsTheConfiguredKeyAndQuery_OnlyToTheConfiguredOrigin()
    {
        await using var provider = await RecordingSite.StartAsync();
        await using var elsewhere = await RecordingSite.StartAsync();
        var key = $"provider-key-{Guid.NewGuid():N}";
        var plan = AgentWithApiRequestTool(provider.Url("/api"), key);

        await AskAsync(plan, "make_api_request", $$"""{"url_input":"{{elsewhere.Url("/api")}}"}""");
        await AskAsync(plan, "make_api_request", $$"""{"url_input":"{{provider.Url("/api")}}"}""");

        Assert.Equal([(null, "")], elsewhere.Seen.Select(request => (request.Key, request.Query)));
        Assert.Equal([(key, $"?token={key}")], provider.Seen.Select(request => (request.Key, request.Query)));
    }

    [Fact]
    public async Task ApiRequestTool_WithNoConfiguredUrl_NeverSendsTheKey()
    {
        await using var site = await RecordingSite.StartAsync();
        var plan = AgentWithApiRequestTool("", $"provider-key-{Guid.NewGuid():N}");

        await AskAsync(plan, "make_api_request", $$"""{"url_input":"{{site.Url("/api")}}"}""");

        Assert.Equal([(null, "")], site.Seen.Select(request => (request.Key, request.Query)));
    }

    /// <summary>One run of the agent in which the model calls <paramref name="tool"/> once, then answers.</summary>
    async Task AskAsync(ExecutionPlan plan, string tool, string arguments)
    {
        var question = $"Question {Guid.NewGuid():N}";
        var server = model.Fresh()
            .When(RecordingSite.Answer, FakeReply.Say("Fetched."))
            .When(question, FakeReply.Call(tool, arguments));
        var services = TestServices.Create(TestServices.Client(server)) with { Outbound = TestServices.LoopbackAllowed };

        var result = await FlowEngine.Default.RunAsync(plan, new RunRequest { InputValue = question }, services, Ct);

        Assert.Equal("Fetched.", result.OutputText);
        Assert.Equal(NodeRunStatus.Succeeded, Assert.Single(result.Nodes, node => node.AsTool).Status);
    }

    /// <summary>Simple Agent whose URL tool is configured with <paramref name="url"/> and a key header.</summary>
    static ExecutionPlan AgentWithUrlTool(string url, string key, int maxDepth = 1)
    {
        var flow = JsonNode.Parse(Examples.Bytes(Examples.SimpleAgent))!;
        var template = UrlNode(flow)["data"]!["node"]!["template"]!;
        template["urls"]!["value"] = new JsonArray(url);
        template["headers"]!["value"] = new JsonArray(new JsonObject { ["key"] = KeyHeader, ["value"] = key });
        template["max_depth"]!["value"] = maxDepth;
        template["prevent_outside"]!["value"] = false;
        return Compile(flow);
    }

    /// <summary>Simple Agent whose URL tool is replaced by an API Request tool configured with <paramref name="url"/>, a key header and a key query parameter.</summary>
    static ExecutionPlan AgentWithApiRequestTool(string url, string key)
    {
        var flow = JsonNode.Parse(Examples.Bytes(Examples.SimpleAgent))!;
        var data = UrlNode(flow)["data"]!;
        data["type"] = "APIRequest";
        data["node"]!.AsObject().Remove("metadata");
        data["node"]!["key"] = "APIRequest";
        data["node"]!["template"] = new JsonObject
        {
            ["_type"] = "Component",
            ["url_input"] = new JsonObject { ["type"] = "str", ["value"] = url, ["tool_mode"] = true },
            ["method"] = new JsonObject { ["type"] = "str", ["value"] = "GET" },
            ["headers"] = new JsonObject { ["type"] = "table", ["value"] = new JsonArray(new JsonObject { ["key"] = KeyHeader, ["value"] = key }) },
            ["query_params"] = new JsonObject { ["type"] = "dict", ["value"] = new JsonObject { ["token"] = key } },
        };
        return Compile(flow);
    }

    static JsonNode UrlNode(JsonNode flow) =>
        flow["data"]!["nodes"]!.AsArray().Single(node => node!["data"]!["type"]!.GetValue<string>() == "URLComponent")!;

    static ExecutionPlan Compile(JsonNode flow)
    {
        var compiled = FlowEngine.Default.Compile(System.Text.Encoding.UTF8.GetBytes(flow.ToJsonString()), null);
        return compiled.Plan ?? throw new InvalidOperationException(compiled.Report.ToText());
    }

    /// <summary>A loopback site that records the path, query and key header of every request it gets.</summary>
    sealed class RecordingSite(WebApplication app, string origin) : IAsyncDisposable
    {
        public const string Answer = "recorded-page-answer";

        readonly ConcurrentQueue<(string Path, string Query, string? Key)> _seen = new();

        public IReadOnlyList<(string Path, string Query, string? Key)> Seen => [.. _seen];

        public string Url(string path) => origin + path;

        public static async Task<RecordingSite> StartAsync(string? linkTo = null)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            RecordingSite? site = null;
            app.Run(context =>
            {
                site!._seen.Enqueue((context.Request.Path, context.Request.QueryString.Value ?? "", context.Request.Headers.TryGetValue(KeyHeader, out var key) ? key.ToString() : null));
                var link = linkTo is null || context.Request.Path != "/" ? "" : $"<a href=\"{linkTo}\">more</a>";
                return Results.Content($"<html><body><p>{Answer}</p>{link}</body></html>", "text/html").ExecuteAsync(context);
            });
            await app.StartAsync();
            site = new RecordingSite(app, app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/'));
            return site;
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
