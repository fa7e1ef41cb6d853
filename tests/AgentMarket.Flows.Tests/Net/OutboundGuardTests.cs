using System.Net;
using AgentMarket.Flows.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentMarket.Flows.Tests.Net;

/// <summary>The outbound guard refuses private, loopback, link-local and metadata addresses, also after redirects and DNS answers.</summary>
public sealed class OutboundGuardTests : IAsyncLifetime
{
    static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    static readonly string[] EchoedHeaders = ["Authorization", "x-api-key", "Cookie", "Accept", "User-Agent"];
    WebApplication? _site;
    string _siteUrl = "";

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        _site = builder.Build();
        _site.MapGet("/ok", () => Results.Content("hello from loopback", "text/plain"));
        _site.MapGet("/to-metadata", () => Results.Redirect("http://169.254.169.254/latest/meta-data/"));
        _site.MapGet("/to-private", () => Results.Redirect("http://10.0.0.7/admin"));
        _site.MapGet("/to-ok", () => Results.Redirect("/ok"));
        _site.MapGet("/loop", () => Results.Redirect("/loop"));
        _site.MapGet("/big", () => Results.Content(new string('x', 5000), "text/plain"));
        _site.MapGet("/to", (string target) => Results.Redirect(target));
        _site.MapGet("/echo", EchoHeaders);
        await _site.StartAsync();
        _siteUrl = _site.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
    }

    /// <summary>The request's credential-bearing and harmless headers, as the target of a redirect saw them.</summary>
    static IResult EchoHeaders(HttpRequest request) => Results.Content(
        string.Join(';', EchoedHeaders.Select(name => $"{name}={request.Headers[name]}")),
        "text/plain");

    static HttpRequestMessage WithCredentials(string url)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer provider-token");
        request.Headers.TryAddWithoutValidation("x-api-key", "provider-key");
        request.Headers.TryAddWithoutValidation("Cookie", "session=provider");
        request.Headers.TryAddWithoutValidation("Accept", "application/json");
        request.Headers.TryAddWithoutValidation("User-Agent", "agentmarket-test");
        return request;
    }

    public async ValueTask DisposeAsync()
    {
        if (_site is not null)
        {
            await _site.DisposeAsync();
        }
    }

    static async Task<Exception> RefusalAsync(OutboundGuard guard, string url)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        return await Assert.ThrowsAnyAsync<Exception>(() => guard.SendAsync(request, null, Ct));
    }

    [Theory]
    [InlineData("http://127.0.0.1/")]
    [InlineData("http://127.1.2.3:8080/")]
    [InlineData("http://10.1.2.3/")]
    [InlineData("http://172.16.0.1/")]
    [InlineData("http://192.168.1.1/")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://100.64.0.1/")]
    [InlineData("http://0.0.0.0/")]
    [InlineData("http://[::1]/")]
    [InlineData("http://[fe80::1]/")]
    [InlineData("http://[fd00:ec2::254]/")]
    [InlineData("http://[::ffff:127.0.0.1]/")]
    [InlineData("http://[64:ff9b::a9fe:a9fe]/")]
    [InlineData("http://localhost/")]
    public async Task PrivateAndSpecialAddresses_AreRefused(string url)
    {
        using var guard = new OutboundGuard(new OutboundPolicy());

        Assert.IsType<OutboundBlockedException>(await RefusalAsync(guard, url));
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("ftp://example.com/")]
    public async Task NonHttpSchemes_AreRefused(string url)
    {
        using var guard = new OutboundGuard(new OutboundPolicy());

        Assert.IsType<OutboundBlockedException>(await RefusalAsync(guard, url));
    }

    [Fact]
    public async Task HostnameResolvingToAPrivateAddress_IsRefused()
    {
        using var guard = new OutboundGuard(new OutboundPolicy { ResolveHost = (_, _) => Task.FromResult(new[] { IPAddress.Parse("10.9.8.7") }) });

        var refusal = Assert.IsType<OutboundBlockedException>(await RefusalAsync(guard, "http://internal.example.com/"));
        Assert.Equal("Requests to \"internal.example.com\" are not allowed: it resolves to 10.9.8.7, which is in the reserved range 10.0.0.0/8.", refusal.Message);
    }

    [Fact]
    public async Task DnsRebinding_IsCheckedOnEveryNewConnection()
    {
        // The same name answers loopback (allowed here) first and a private address next: the second connection is refused.
        var answers = new Queue<IPAddress>([IPAddress.Loopback, IPAddress.Parse("10.0.0.1")]);
        using var guard = new OutboundGuard(OutboundPolicy.FromAllowList(["127.0.0.1/32"]) with
        {
            ResolveHost = (_, _) => Task.FromResult(new[] { answers.Dequeue() }),
        });
        var port = new Uri(_siteUrl).Port;
        using var first = new HttpRequestMessage(HttpMethod.Get, $"http://rebind.example:{port}/ok");

        Assert.Equal("hello from loopback", (await guard.SendAsync(first, null, Ct)).Text);
        var refusal = Assert.IsType<OutboundBlockedException>(await RefusalAsync(guard, $"http://rebind.example:{port + 1}/ok"));
        Assert.Contains("10.0.0.1", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AllowedLoopback_IsReachable()
    {
        using var guard = new OutboundGuard(OutboundPolicy.FromAllowList(["127.0.0.1/32"]));
        using var request = new HttpRequestMessage(HttpMethod.Get, _siteUrl + "/ok");

        var response = await guard.SendAsync(request, null, Ct);

        Assert.Equal((200, "hello from loopback"), (response.StatusCode, response.Text));
    }

    [Fact]
    public async Task AllowedHostName_IsReachableEvenThoughItResolvesPrivately()
    {
        using var guard = new OutboundGuard(OutboundPolicy.FromAllowList(["*.internal.test"]) with
        {
            ResolveHost = (_, _) => Task.FromResult(new[] { IPAddress.Loopback }),
        });
        var port = new Uri(_siteUrl).Port;
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://api.internal.test:{port}/ok");

        Assert.Equal("hello from loopback", (await guard.SendAsync(request, null, Ct)).Text);
    }

    [Theory]
    [InlineData("/to-metadata")]
    [InlineData("/to-private")]
    public async Task RedirectToAPrivateAddress_IsRefused(string path)
    {
        using var guard = new OutboundGuard(OutboundPolicy.FromAllowList(["127.0.0.1/32"]));

        Assert.IsType<OutboundBlockedException>(await RefusalAsync(guard, _siteUrl + path));
    }

    [Fact]
    public async Task RedirectWithinTheAllowedHost_IsFollowed_AndEveryHopCounted()
    {
        using var guard = new OutboundGuard(OutboundPolicy.FromAllowList(["127.0.0.1/32"]));
        using var request = new HttpRequestMessage(HttpMethod.Get, _siteUrl + "/to-ok");
        var hops = 0;

        var response = await guard.SendAsync(request, new OutboundRequestOptions { BeforeEachRequest = () => hops++ }, Ct);

        Assert.Equal(("hello from loopback", 2), (response.Text, hops));
        Assert.EndsWith("/ok", response.FinalUri.AbsolutePath, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RedirectToAnotherPortOfTheSameHost_KeepsOnlyHeadersWithoutCredentials_ButWithinTheOriginKeepsThemAll()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        await using var other = builder.Build();
        other.MapGet("/echo", EchoHeaders);
        await other.StartAsync(Ct);
        var otherUrl = other.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        using var guard = new OutboundGuard(OutboundPolicy.FromAllowList(["127.0.0.1/32"]));
        using var toOtherPort = WithCredentials($"{_siteUrl}/to?target={Uri.EscapeDataString(otherUrl + "/echo")}");
        using var withinOrigin = WithCredentials($"{_siteUrl}/to?target={Uri.EscapeDataString(_siteUrl + "/echo")}");

        var otherPort = await guard.SendAsync(toOtherPort, null, Ct);
        var sameOrigin = await guard.SendAsync(withinOrigin, null, Ct);

        Assert.Equal("Authorization=;x-api-key=;Cookie=;Accept=application/json;User-Agent=agentmarket-test", otherPort.Text);
        Assert.Equal("Authorization=Bearer provider-token;x-api-key=provider-key;Cookie=session=provider;Accept=application/json;User-Agent=agentmarket-test", sameOrigin.Text);
    }

    [Fact]
    public async Task RedirectToAnotherHost_KeepsOnlyHeadersWithoutCredentials()
    {
        using var guard = new OutboundGuard(OutboundPolicy.FromAllowList(["127.0.0.1/32"]) with
        {
            ResolveHost = (_, _) => Task.FromResult(new[] { IPAddress.Loopback }),
        });
        var port = new Uri(_siteUrl).Port;
        using var request = WithCredentials($"{_siteUrl}/to?target={Uri.EscapeDataString($"http://elsewhere.test:{port}/echo")}");

        var response = await guard.SendAsync(request, null, Ct);

        Assert.Equal("Authorization=;x-api-key=;Cookie=;Accept=application/json;User-Agent=agentmarket-test", response.Text);
    }

    [Theory]
    [InlineData("http://api.example.com/next")]
    [InlineData("https://api.example.com:8443/next")]
    [InlineData("https://other.example.com/next")]
    public void RedirectLeavingTheOrigin_OrFromHttpsToHttp_DropsCredentialHeaders_AndKeepsABodyWithItsType(string location)
    {
        using var previous = WithCredentials("https://api.example.com/start");
        previous.Method = HttpMethod.Post;
        previous.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");

        using var next = OutboundGuard.Redirected(previous, HttpStatusCode.TemporaryRedirect, new Uri(location), [0x7b, 0x7d]);

        Assert.Equal(["Accept", "User-Agent"], next.Headers.Select(header => header.Key).Order(StringComparer.Ordinal));
        Assert.Equal((HttpMethod.Post, "application/json"), (next.Method, next.Content?.Headers.ContentType?.MediaType));
    }

    [Fact]
    public async Task RedirectLoop_StopsAtTheCap()
    {
        using var guard = new OutboundGuard(OutboundPolicy.FromAllowList(["127.0.0.1/32"]) with { MaxRedirects = 3 });

        var failure = Assert.IsType<OutboundRequestException>(await RefusalAsync(guard, _siteUrl + "/loop"));
        Assert.Equal("More than 3 redirects.", failure.Message);
    }

    [Fact]
    public async Task ResponsesLargerThanTheCap_Fail()
    {
        using var guard = new OutboundGuard(OutboundPolicy.FromAllowList(["127.0.0.1/32"]) with { MaxResponseBytes = 1000 });

        var failure = Assert.IsType<OutboundRequestException>(await RefusalAsync(guard, _siteUrl + "/big"));
        Assert.Equal("The response is larger than 1000 bytes.", failure.Message);
    }

    [Theory]
    [InlineData("8.8.8.8", true)]
    [InlineData("2606:4700:4700::1111", true)]
    [InlineData("198.18.0.1", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("255.255.255.255", false)]
    [InlineData("2002:a00:1::", false)]
    [InlineData("2002:808:808::", true)]
    [InlineData("ff02::1", false)]
    public void AddressRanges_ClassifyPublicAddresses(string address, bool isPublic) =>
        Assert.Equal(isPublic, AddressRanges.IsPublic(IPAddress.Parse(address)));
}
