using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Backstage;

/// <summary>
/// The Backstage export read back by an independent YAML parser (npm <c>yaml</c>), checked by Backstage's own
/// <c>@backstage/catalog-model</c> (the policies and kind validators its catalog applies), and against the schema rules
/// spelled out here (names, namespaces, tags, required spec fields, references between the entities).
/// </summary>
public sealed partial class BackstageExportTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    const int MaxNameLength = 63;
    static readonly string[] FreeTextTags = ["Customer Support", "Café Bot", "日本語"];
    static readonly string[] OwnedSpecFields = ["type", "lifecycle", "owner"];
    static readonly string[] RunResponseFields = ["run_id", "output", "session_id", "credits_charged", "balance"];

    [Fact]
    public async Task CatalogInfoYaml_ParsedIndependently_EveryEntityFollowsBackstageRules()
    {
        var (published, _, _) = await PublishMixAsync();

        var (yaml, documents) = await ReadYamlAsync();

        Assert.StartsWith("---\n", yaml, StringComparison.Ordinal);
        Assert.NotEmpty(documents);
        foreach (var entity in documents)
        {
            AssertValidEntity(entity);
        }
        var byRef = documents.ToDictionary(e => $"{Kind(e).ToLowerInvariant()}:{e["metadata"]!["namespace"]}/{e["metadata"]!["name"]}");
        Assert.Equal(documents.Count, byRef.Count); // refs are unique

        foreach (var agent in published)
        {
            var component = documents.Single(e => Kind(e) == "Component" && (string?)e["metadata"]!["title"] == agent.Name);
            var spec = component["spec"]!;
            Assert.Equal("service", (string?)spec["type"]);
            Assert.Equal($"group:default/{agent.ProviderHandle}", (string?)spec["owner"]);
            Assert.True(byRef.ContainsKey((string)spec["owner"]!), $"owner {spec["owner"]} is exported as a Group");
            var apiRef = (string)spec["providesApis"]!.AsArray().Single()!;
            var api = byRef[apiRef];
            Assert.Equal("API", Kind(api));
            Assert.Equal(spec["owner"]!.ToString(), api["spec"]!["owner"]!.ToString());

            var link = (string)component["metadata"]!["links"]!.AsArray().Single()!["url"]!;
            Assert.EndsWith($"/agents/{agent.Slug}", link, StringComparison.Ordinal);
            using var visitor = app.CreateClient();
            await Http.AssertStatusAsync(await visitor.GetAsync(new Uri(link).PathAndQuery), HttpStatusCode.OK);

            AssertRunApiDefinition((string)api["spec"]!["definition"]!);
        }
    }

    [Fact]
    public async Task CatalogInfo_FreeTextTagsAndLongSlugs_BecomeValidNamesAndTags()
    {
        var seller = await app.SellerAsync();
        var longSlug = ("long-" + CatalogIntents.UniqueWord() + new string('a', 70))[..80];
        var agent = await app.PublishedAgentAsync(slug: longSlug, overrides: new() { ["tags"] = FreeTextTags });

        var (_, documents) = await ReadYamlAsync();

        var component = documents.Single(e => Kind(e) == "Component" && (string?)e["metadata"]!["title"] == agent.Name);
        var tags = component["metadata"]!["tags"]!.AsArray().Select(t => (string)t!).ToList();
        Assert.Contains("customer-support", tags);
        Assert.Contains("cafe-bot", tags);
        Assert.Contains("assistants", tags);
        Assert.Equal(3, tags.Count); // a tag with nothing Backstage accepts is left out
        var name = (string)component["metadata"]!["name"]!;
        Assert.True(name.Length <= MaxNameLength);
        Assert.StartsWith(longSlug[..30], name, StringComparison.Ordinal);
        foreach (var entity in documents)
        {
            AssertValidEntity(entity);
        }
    }

    [Fact]
    public async Task CatalogInfo_PrivateAndUnpublishedListings_AndOrganizations_DoNotAppear()
    {
        var (published, privateAgent, unpublished) = await PublishMixAsync();

        var (yaml, _) = await ReadYamlAsync();
        using var anonymous = app.CreateClient();
        var json = await (await anonymous.GetAsync("/api/backstage/catalog-info.json")).Content.ReadAsStringAsync();

        foreach (var text in new[] { yaml, json })
        {
            Assert.Contains(published[0].Slug, text, StringComparison.Ordinal);
            Assert.DoesNotContain(privateAgent.Slug, text, StringComparison.Ordinal);
            Assert.DoesNotContain(privateAgent.Name, text, StringComparison.Ordinal);
            Assert.DoesNotContain(unpublished.Name, text, StringComparison.Ordinal);
            foreach (var owner in published.Select(p => p.Seller).Append(privateAgent.Seller).Append(unpublished))
            {
                Assert.DoesNotContain(owner.OrganizationId.ToString(), text, StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain(owner.Email, text, StringComparison.OrdinalIgnoreCase);
            }
        }
    }

    [Fact]
    public async Task CatalogInfo_AsJson_CarriesTheSameEntitiesAsTheYaml()
    {
        await PublishMixAsync();
        var (_, documents) = await ReadYamlAsync();
        using var client = app.CreateClient();

        var byExtension = await client.GetAsync("/api/backstage/catalog-info.json");
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/backstage/catalog-info.yaml");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var byAccept = await client.SendAsync(request);

        foreach (var response in new[] { byExtension, byAccept })
        {
            await Http.AssertStatusAsync(response, HttpStatusCode.OK);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            var items = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["items"]!.AsArray();
            Assert.Equal(documents.Count, items.Count);
            for (var i = 0; i < items.Count; i++)
            {
                Assert.True(JsonNode.DeepEquals(documents[i], items[i]), $"entity {i} differs between YAML and JSON");
            }
        }
    }

    async Task<(List<PublishedAgent> Published, PublishedAgent Private, TestUser Unpublished)> PublishMixAsync()
    {
        var first = await app.PublishedAgentAsync(overrides: new() { ["short_description"] = "Quotes: \"yes\", colons: no # not a comment" });
        var second = await app.PublishedAgentAsync(category: "automations");
        var hidden = await app.PublishedAgentAsync(overrides: new() { ["visibility"] = "private" });
        // A seller whose agent exists but was never published.
        var (draftSeller, _) = await app.SellerAsync();
        await draftSeller.CreateAgentAsync($"Unpublished {CatalogIntents.UniqueWord()}");
        return ([first, second], hidden, draftSeller);
    }

    async Task<(string Yaml, List<JsonObject> Documents)> ReadYamlAsync()
    {
        using var client = app.CreateClient();
        var response = await client.GetAsync("/api/backstage/catalog-info.yaml");
        await Http.AssertStatusAsync(response, HttpStatusCode.OK);
        Assert.Equal("application/yaml", response.Content.Headers.ContentType?.MediaType);
        var yaml = await response.Content.ReadAsStringAsync();
        var parsed = JsonNode.Parse(await ParseWithNodeAsync(yaml))!;
        Assert.Empty(parsed["errors"]!.AsArray());
        Assert.Empty(parsed["backstageErrors"]!.AsArray().Select(e => (string?)e));
        return (yaml, parsed["documents"]!.AsArray().Select(d => d!.AsObject()).ToList());
    }

    static void AssertValidEntity(JsonObject entity)
    {
        var described = entity.ToJsonString();
        Assert.Equal("backstage.io/v1alpha1", (string?)entity["apiVersion"]);
        var metadata = entity["metadata"]!.AsObject();
        var name = (string)metadata["name"]!;
        Assert.True(name.Length <= MaxNameLength && EntityName().IsMatch(name), $"invalid metadata.name '{name}' in {described}");
        var ns = (string)metadata["namespace"]!;
        Assert.True(ns.Length <= MaxNameLength && Namespace().IsMatch(ns), $"invalid namespace '{ns}'");
        foreach (var tag in metadata["tags"]?.AsArray() ?? [])
        {
            var text = (string)tag!;
            Assert.True(text.Length <= MaxNameLength && Tag().IsMatch(text), $"invalid tag '{text}'");
        }
        foreach (var link in metadata["links"]?.AsArray() ?? [])
        {
            Assert.True(Uri.TryCreate((string?)link!["url"], UriKind.Absolute, out _), $"link without an absolute url in {described}");
        }
        var spec = entity["spec"]!.AsObject();
        string[] required = Kind(entity) switch
        {
            "API" => ["type", "lifecycle", "owner", "definition"],
            "Component" => ["type", "lifecycle", "owner"],
            "Group" => ["type", "children"],
            var other => throw new Xunit.Sdk.XunitException($"unexpected kind {other}"),
        };
        foreach (var field in required)
        {
            Assert.True(spec[field] is not null, $"{Kind(entity)} {name} lacks spec.{field}");
        }
        if (Kind(entity) != "Group")
        {
            Assert.All(OwnedSpecFields, f => Assert.False(string.IsNullOrEmpty((string?)spec[f]), $"spec.{f} is empty"));
            Assert.Matches(EntityRef(), (string)spec["owner"]!);
        }
        else
        {
            Assert.IsType<JsonArray>(spec["children"]);
        }
    }

    static void AssertRunApiDefinition(string definition)
    {
        var openApi = JsonNode.Parse(definition)!;
        Assert.StartsWith("3.", (string)openApi["openapi"]!, StringComparison.Ordinal);
        var post = openApi["paths"]!["/api/agents/{uuid}/run/"]!["post"]!;
        Assert.Contains(post["parameters"]!.AsArray(), p => (string?)p!["name"] == "uuid" && (string?)p["in"] == "path");
        var properties = post["requestBody"]!["content"]!["application/json"]!["schema"]!["properties"]!.AsObject();
        Assert.True(properties.ContainsKey("input") && properties.ContainsKey("session_id"));
        var response = post["responses"]!["200"]!["content"]!["application/json"]!["schema"]!["properties"]!.AsObject();
        Assert.All(RunResponseFields, p => Assert.True(response.ContainsKey(p), p));
        var scheme = openApi["components"]!["securitySchemes"]!["agentKey"]!;
        Assert.Equal("http", (string?)scheme["type"]);
        Assert.Equal("bearer", (string?)scheme["scheme"]);
        Assert.NotNull(openApi["security"]!.AsArray().Single()!["agentKey"]);
    }

    static string Kind(JsonObject entity) => (string)entity["kind"]!;

    static async Task<string> ParseWithNodeAsync(string yaml)
    {
        var start = new ProcessStartInfo("node", "parse-yaml.mjs")
        {
            WorkingDirectory = Path.Combine(Repo.Root, "tests", "AgentMarket.Tests", "Backstage", "node"),
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var node = Process.Start(start)!;
        await node.StandardInput.WriteAsync(yaml);
        node.StandardInput.Close();
        var output = node.StandardOutput.ReadToEndAsync();
        var error = node.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await node.WaitForExitAsync(timeout.Token);
        Assert.True(node.ExitCode == 0, $"node parse-yaml.mjs failed: {await error}");
        return await output;
    }

    // Backstage catalog-model: KubernetesValidatorFunctions.isValidObjectName / isValidNamespace and the tag rule.
    [GeneratedRegex("^[a-z0-9A-Z]([-_.]?[a-z0-9A-Z])*$")]
    private static partial Regex EntityName();

    [GeneratedRegex("^[a-z0-9]+(?:-[a-z0-9]+)*$")]
    private static partial Regex Namespace();

    [GeneratedRegex("^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$")]
    private static partial Regex Tag();

    [GeneratedRegex("^(group|user):([a-z0-9]+(?:-[a-z0-9]+)*/)?[a-z0-9A-Z]([-_.]?[a-z0-9A-Z])*$")]
    private static partial Regex EntityRef();
}
