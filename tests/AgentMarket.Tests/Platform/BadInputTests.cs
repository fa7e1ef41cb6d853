using System.Net;
using System.Net.Http.Json;
using System.Text;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Platform;

/// <summary>
/// Hostile and careless requests against every JSON route the app has: each gets a 4xx problem with a stable code,
/// never a 500, and nothing stored changes.
/// </summary>
public class BadInputTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    public static TheoryData<string, string, string> Bodies => new()
    {
        { "truncated JSON", "{\"name\": \"x\"", "malformed_json" },
        { "not JSON at all", "<xml/>", "malformed_json" },
        { "an array instead of an object", "[1, 2, 3]", "malformed_json" },
        { "wrong types", "{\"name\": 42, \"email\": 42, \"handle\": 42, \"token\": 42, \"reason\": 42, \"role\": 42, \"plan\": 42, \"card_number\": 42, \"package_uuid\": 42, \"amount_cents\": \"many\", \"low_balance_threshold\": \"low\", \"text\": 42, \"slug\": 42, \"version\": 42, \"fields\": 42, \"position\": \"first\", \"input\": 42, \"session_id\": 42, \"grace_hours\": \"long\", \"offering\": 42, \"config\": 42, \"persona\": 42, \"key\": 42, \"allowed_origins\": 42, \"url\": 42, \"events\": 42, \"site_name\": 42, \"period\": 42, \"reference\": 42, \"minimum_cents\": \"many\", \"current_password\": 42, \"revision\": 42}", "malformed_json" },
        { "deeply nested", new string('[', 5000) + new string(']', 5000), "malformed_json" },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task EveryJsonRoute_RejectsABadBody_WithAProblemAndCode(string what, string body, string code)
    {
        var (owner, operatorClient) = await CallersAsync();
        var failures = new List<string>();
        foreach (var route in JsonRoutes())
        {
            var client = route.Access!.Kind == AccessKind.Operator ? operatorClient : owner.Client;
            using var request = new HttpRequestMessage(new HttpMethod(route.Method), UrlFor(route, owner))
            {
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            };
            using var response = await client.SendAsync(request);
            await CollectUnlessProblemAsync(response, HttpStatusCode.BadRequest, code, $"{what}: {route}", failures);
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task EveryJsonRoute_RejectsATenMegabyteBody_With413()
    {
        var (owner, operatorClient) = await CallersAsync();
        var huge = "{\"name\": \"" + new string('a', 10 * 1024 * 1024) + "\"}";
        var failures = new List<string>();
        foreach (var route in JsonRoutes())
        {
            var client = route.Access!.Kind == AccessKind.Operator ? operatorClient : owner.Client;
            using var request = new HttpRequestMessage(new HttpMethod(route.Method), UrlFor(route, owner))
            {
                Content = new StringContent(huge, Encoding.UTF8, "application/json"),
            };
            using var response = await client.SendAsync(request);
            await CollectUnlessProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "payload_too_large", route.ToString(), failures);
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task MissingRequiredFields_Return400_NamingEachField()
    {
        var response = await app.CreateClient().PostAsJsonAsync("/api/auth/signup", new { });
        var problem = await Http.AssertProblemAsync(response, HttpStatusCode.BadRequest, "validation_failed");
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("email", out _) && errors.TryGetProperty("password", out _) && errors.TryGetProperty("name", out _), errors.ToString());
    }

    [Fact]
    public async Task WrongContentType_Returns415Problem()
    {
        var response = await app.CreateClient().PostAsync("/api/auth/signup", new StringContent("email=a", Encoding.UTF8, "text/plain"));
        await Http.AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
    }

    [Fact]
    public async Task UnknownIds_Return404_OnEveryRouteThatTakesOne()
    {
        var (owner, operatorClient) = await CallersAsync();
        var failures = new List<string>();
        foreach (var route in ApiRoute.All(app.Services).Where(r => r.Parameters.Count > 0 && r.Access!.Kind != AccessKind.Anonymous))
        {
            var client = route.Access!.Kind == AccessKind.Operator ? operatorClient : owner.Client;
            using var request = Http.Request(new HttpMethod(route.Method), route.Url(_ => Guid.CreateVersion7().ToString()), json: route.AcceptsJson ? ApiRoute.PlausibleBody : null);
            using var response = await client.SendAsync(request);
            await CollectUnlessProblemAsync(response, HttpStatusCode.NotFound, "not_found", route.ToString(), failures);
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task MalformedOrganizationHeader_Returns404()
    {
        var owner = await app.SignUpAsync();
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/projects/");
        request.Headers.Add("X-Organization", "not-a-uuid");
        await Http.AssertProblemAsync(await owner.Client.SendAsync(request), HttpStatusCode.NotFound, "not_found");
    }

    /// <summary>The caller's own organization where the route names one (so the body is what is judged), else unknown ids.</summary>
    static string UrlFor(ApiRoute route, TestUser owner) =>
        route.Url(parameter => parameter == route.Access?.OrganizationRouteParameter ? owner.OrganizationId.ToString() : Guid.CreateVersion7().ToString());

    IEnumerable<ApiRoute> JsonRoutes() => ApiRoute.All(app.Services).Where(r => r.AcceptsJson);

    async Task<(TestUser Owner, HttpClient Operator)> CallersAsync() => (await app.SignUpAsync(), await app.OperatorAsync());

    static async Task CollectUnlessProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code, string what, List<string> failures)
    {
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != status || response.Content.Headers.ContentType?.MediaType != "application/problem+json" || !body.Contains($"\"code\":\"{code}\"", StringComparison.Ordinal))
        {
            failures.Add($"{what} → {(int)response.StatusCode} {body[..Math.Min(body.Length, 300)]}");
        }
    }
}
