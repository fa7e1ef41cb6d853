using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace AgentMarket.Tests.Infrastructure;

public static class Http
{
    /// <summary>Asserts the status, printing the body when it differs (the body usually says why).</summary>
    public static async Task AssertStatusAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        if (response.StatusCode != expected)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.Fail($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} → expected {(int)expected} {expected}, got {(int)response.StatusCode}: {body}");
        }
    }

    /// <summary>Asserts an RFC 9457 problem response with the given status and stable code, and returns it.</summary>
    public static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        await AssertStatusAsync(response, status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.Equal(code, problem.GetProperty("code").GetString());
        return problem;
    }

    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        await AssertStatusAsync(response, expected);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public static HttpRequestMessage Request(HttpMethod method, string url, Guid? organization = null, object? json = null, string? rawBody = null)
    {
        var request = new HttpRequestMessage(method, url);
        if (organization is { } org)
        {
            request.Headers.Add("X-Organization", org.ToString());
        }
        if (json is not null)
        {
            request.Content = JsonContent.Create(json);
        }
        else if (rawBody is not null)
        {
            request.Content = new StringContent(rawBody, Encoding.UTF8, "application/json");
        }
        return request;
    }
}
