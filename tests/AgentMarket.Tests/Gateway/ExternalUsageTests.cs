using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Credits;
using AgentMarket.Credits.Jobs;
using AgentMarket.Credits.Ledger;
using AgentMarket.Gateway;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

using static AgentMarket.Tests.Gateway.UsageReports;

namespace AgentMarket.Tests.Gateway;

/// <summary>
/// A provider's own runtime reports runs (<c>POST /api/runtime/usage/</c>): signed with the provider's usage secret,
/// charged once per event like a gateway run, never for another provider's subscription. Every agent here is declared to
/// run on its provider's runtime; ProviderReportedUsageTests covers one that is not.
/// </summary>
public class ExternalUsageTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    [Fact]
    public async Task ASignedReport_IsChargedLikeARun_AndARetryReplaysIt()
    {
        var (subscribed, provider) = await SubscribedWithSecretAsync(new { model = "fixed_credits", credits_per_run = 40 });
        var report = Report(subscribed.Config);

        var first = await Http.ReadJsonAsync(await PostSignedAsync(provider, report), HttpStatusCode.Created);
        var retry = await Http.ReadJsonAsync(await PostSignedAsync(provider, report), HttpStatusCode.OK);

        Assert.Equal(40, first.GetProperty("credits_charged").GetInt64());
        Assert.False(first.GetProperty("replayed").GetBoolean());
        Assert.Equal(first.GetProperty("run_id").GetGuid(), retry.GetProperty("run_id").GetGuid());
        Assert.True(retry.GetProperty("replayed").GetBoolean());
        Assert.Equal(350 - 40, (await subscribed.Buyer.BalanceAsync()).GetProperty("available").GetInt64());
        var spend = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync("/api/credits/transactions/?type=spend"));
        Assert.Equal(1, spend.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task ConcurrentDeliveriesOfOneEvent_ChargeOnce()
    {
        var (subscribed, provider) = await SubscribedWithSecretAsync(new { model = "fixed_credits", credits_per_run = 25 });
        var report = Report(subscribed.Config);

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => PostSignedAsync(provider, report)));

        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.OK, HttpStatusCode.Conflict }));
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        Assert.Equal(350 - 25, (await subscribed.Buyer.BalanceAsync()).GetProperty("available").GetInt64());
    }

    /// <summary>How far a delivery got before its process ended.</summary>
    public enum Stopped
    {
        AfterClaiming,
        AfterReserving,
        AfterSettling,
    }

    [Theory]
    [InlineData(Stopped.AfterClaiming, 3)] // a claim is taken over after two minutes
    [InlineData(Stopped.AfterReserving, 3)]
    [InlineData(Stopped.AfterSettling, 3)]
    [InlineData(Stopped.AfterReserving, 20)] // after its reservation's 15 minutes: the expiry job voids it first
    public async Task ADeliveryThatStoppedHalfWay_IsFinishedByARetry_ChargingOnce(Stopped stopped, int minutesAgo)
    {
        var (subscribed, provider) = await SubscribedWithSecretAsync(new { model = "fixed_credits", credits_per_run = 40 });
        var report = Report(subscribed.Config);
        var run = await StoppedDeliveryAsync(subscribed.Config, (string)report["event_id"]!, price: 40, TimeSpan.FromMinutes(minutesAgo), stopped);
        await app.Services.GetRequiredService<CreditJobs>().RunOnceAsync(CancellationToken.None);
        var reservedBefore = (await subscribed.Buyer.BalanceAsync()).GetProperty("reserved").GetInt64();
        var reservationMinutes = app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.ReservationMinutes;
        Assert.Equal(stopped == Stopped.AfterReserving && minutesAgo < reservationMinutes ? 40 : 0, reservedBefore);

        var finished = await Http.ReadJsonAsync(await PostSignedAsync(provider, report), HttpStatusCode.Created);
        var retry = await Http.ReadJsonAsync(await PostSignedAsync(provider, report), HttpStatusCode.OK);

        Assert.Equal((run, 40L), (finished.GetProperty("run_id").GetGuid(), finished.GetProperty("credits_charged").GetInt64()));
        Assert.Equal((run, 40L), (retry.GetProperty("run_id").GetGuid(), retry.GetProperty("credits_charged").GetInt64()));
        var balance = await subscribed.Buyer.BalanceAsync();
        Assert.Equal((350L - 40, 0L), (balance.GetProperty("available").GetInt64(), balance.GetProperty("reserved").GetInt64()));
        var spend = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync("/api/credits/transactions/?type=spend"));
        Assert.Equal(1, spend.GetProperty("total").GetInt32());
        var totals = (await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync("/api/usage/"))).GetProperty("totals");
        Assert.Equal((1, 1, 40L), (totals.GetProperty("runs").GetInt32(), totals.GetProperty("succeeded").GetInt32(), totals.GetProperty("credits_charged").GetInt64()));
    }

    [Fact]
    public async Task ABuyer_CannotTakeAnEventsKeyFirst_SoTheProvidersReportIsStillCharged()
    {
        var (subscribed, provider) = await SubscribedWithSecretAsync(new { model = "fixed_credits", credits_per_run = 40 });
        var report = Report(subscribed.Config);

        var taken = await subscribed.KeyClient.RunAsync(subscribed.Config, "Run me under the event's key", idempotencyKey: $" usage:{report["event_id"]}");
        var problem = await Http.AssertProblemAsync(taken, HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty("Idempotency-Key", out _));

        var recorded = await Http.ReadJsonAsync(await PostSignedAsync(provider, report), HttpStatusCode.Created);
        Assert.Equal(40, recorded.GetProperty("credits_charged").GetInt64());
        Assert.Equal(350 - 40, (await subscribed.Buyer.BalanceAsync()).GetProperty("available").GetInt64());
    }

    [Fact]
    public async Task AClaimStillBeingWorkedOn_IsNotTakenOver()
    {
        var (subscribed, provider) = await SubscribedWithSecretAsync(new { model = "fixed_credits", credits_per_run = 40 });
        var report = Report(subscribed.Config);
        await StoppedDeliveryAsync(subscribed.Config, (string)report["event_id"]!, price: 40, TimeSpan.FromSeconds(5), Stopped.AfterClaiming);

        await Http.AssertProblemAsync(await PostSignedAsync(provider, report), HttpStatusCode.Conflict, "report_in_progress");
        Assert.Equal(350, (await subscribed.Buyer.BalanceAsync()).GetProperty("available").GetInt64());
    }

    [Fact]
    public async Task AFailedRun_IsRecordedAndCostsNothing_AndAnUnpayableOneIsRefusedWith402()
    {
        var (subscribed, provider) = await SubscribedWithSecretAsync(new { model = "fixed_credits", credits_per_run = 500 });

        var failed = await Http.ReadJsonAsync(await PostSignedAsync(provider, Report(subscribed.Config, status: "failed")), HttpStatusCode.Created);
        Assert.Equal(0, failed.GetProperty("credits_charged").GetInt64());

        var unpayable = Report(subscribed.Config);
        await Http.AssertProblemAsync(await PostSignedAsync(provider, unpayable), HttpStatusCode.PaymentRequired, "insufficient_credits");
        await Http.AssertProblemAsync(await PostSignedAsync(provider, unpayable), HttpStatusCode.PaymentRequired, "insufficient_credits");
        var balance = await subscribed.Buyer.BalanceAsync();
        Assert.Equal((350L, 0L), (balance.GetProperty("available").GetInt64(), balance.GetProperty("reserved").GetInt64()));
    }

    [Fact]
    public async Task BadSignatures_AreRefused_AndChargeNothing()
    {
        var (subscribed, provider) = await SubscribedWithSecretAsync(new { model = "fixed_credits", credits_per_run = 10 });
        var body = JsonSerializer.SerializeToUtf8Bytes(Report(subscribed.Config));
        var now = DateTimeOffset.UtcNow;

        HttpRequestMessage[] forged =
        [
            Signed(provider.Id, "amus_not-the-secret", body, now),
            Signed(provider.Id, provider.Secret, body, now.AddMinutes(-10)), // replayed too late
            Signed(Guid.NewGuid(), provider.Secret, body, now),
            Tampered(Signed(provider.Id, provider.Secret, body, now), JsonSerializer.SerializeToUtf8Bytes(Report(subscribed.Config, inputTokens: 1))),
            Unsigned(provider.Id, body),
        ];
        foreach (var request in forged)
        {
            await Http.AssertProblemAsync(await app.CreateClient().SendAsync(request), HttpStatusCode.Unauthorized, "invalid_signature");
        }
        Assert.Equal(350, (await subscribed.Buyer.BalanceAsync()).GetProperty("available").GetInt64());
    }

    [Fact]
    public async Task AProvider_CannotReportUsageOfAnotherProvidersSubscription()
    {
        var (subscribed, _) = await SubscribedWithSecretAsync(new { model = "fixed_credits", credits_per_run = 10 });
        var (_, otherProvider) = await SubscribedWithSecretAsync(new { model = "fixed_credits", credits_per_run = 10 });

        await Http.AssertProblemAsync(await PostSignedAsync(otherProvider, Report(subscribed.Config)), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await PostSignedAsync(otherProvider, Report(Guid.NewGuid())), HttpStatusCode.NotFound, "not_found");
        Assert.Equal(350, (await subscribed.Buyer.BalanceAsync()).GetProperty("available").GetInt64());
    }

    [Fact]
    public async Task MalformedReports_GetAClearAnswer()
    {
        var (subscribed, provider) = await SubscribedWithSecretAsync(new { model = "fixed_credits", credits_per_run = 10 });

        await Http.AssertProblemAsync(await PostRawSignedAsync(provider, "{not json"u8.ToArray()), HttpStatusCode.BadRequest, "malformed_json");
        await Http.AssertProblemAsync(await PostRawSignedAsync(provider, """{"event_id":"e1","customer_agent_config":"x"}"""u8.ToArray()), HttpStatusCode.BadRequest, "malformed_json");
        await Http.AssertProblemAsync(await PostRawSignedAsync(provider, """{"event_id":"e1","unknown":1}"""u8.ToArray()), HttpStatusCode.BadRequest, "malformed_json");
        await Http.AssertProblemAsync(await PostSignedAsync(provider, Report(subscribed.Config, inputTokens: -1)), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await PostSignedAsync(provider, Report(subscribed.Config, status: "maybe")), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await PostSignedAsync(provider, Report(subscribed.Config, eventId: new string('e', 101))), HttpStatusCode.BadRequest, "validation_failed");
        var huge = Http.Request(HttpMethod.Post, "/api/runtime/usage/");
        huge.Content = new ByteArrayContent(new byte[20_000]);
        await Http.AssertProblemAsync(await app.CreateClient().SendAsync(huge), HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        Assert.Equal(350, (await subscribed.Buyer.BalanceAsync()).GetProperty("available").GetInt64());
    }

    [Fact]
    public async Task OnlyAProvidersOrganization_HasAUsageSecret_AndRotatingItRetiresTheOldOne()
    {
        var buyer = await app.SignUpAsync("Buyer");
        await Http.AssertProblemAsync(await buyer.Client.PostAsync("/api/providers/mine/usage-secret/", null), HttpStatusCode.Forbidden, "not_a_provider");

        var (subscribed, provider) = await SubscribedWithSecretAsync(new { model = "fixed_credits", credits_per_run = 10 });
        var rotated = await Http.ReadJsonAsync(await subscribed.Agent.Seller.Client.PostAsync("/api/providers/mine/usage-secret/", null), HttpStatusCode.Created);
        var mine = await Http.ReadJsonAsync(await subscribed.Agent.Seller.Client.GetAsync("/api/providers/mine/"));
        Assert.Equal(rotated.GetProperty("created").GetDateTime(), mine.GetProperty("usage_secret_created").GetDateTime());

        await Http.AssertProblemAsync(await PostSignedAsync(provider, Report(subscribed.Config)), HttpStatusCode.Unauthorized, "invalid_signature");
        await Http.AssertStatusAsync(await PostSignedAsync(provider with { Secret = rotated.GetProperty("secret").GetString()! }, Report(subscribed.Config)), HttpStatusCode.Created);
    }

    async Task<(Subscribed Subscribed, ProviderSecret Provider)> SubscribedWithSecretAsync(object pricing)
    {
        var agent = await app.PromptAgentAsync(pricing);
        var seller = agent.Seller.Client;
        // Reports are accepted only for an agent declared to run on its provider's runtime (ProviderReportedUsageTests),
        // at once for buyers who subscribe after it was declared (UsageReportingNoticeTests).
        await Http.AssertStatusAsync(await seller.PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}/", new { reports_usage = true }), HttpStatusCode.OK);
        var subscribed = await app.SubscribedAsync(agent);
        var provider = await ProviderSecret.CreateAsync(seller);
        Assert.StartsWith("amus_", provider.Secret);
        return (subscribed, provider);
    }

    /// <summary>
    /// The state a delivery leaves when its process ends <paramref name="stopped"/>, as the endpoint writes it: the running
    /// record claiming the event (its finish time is the claim's), then the reserve and the settle under its ledger keys.
    /// </summary>
    async Task<Guid> StoppedDeliveryAsync(Guid config, string eventId, long price, TimeSpan claimedAgo, Stopped stopped)
    {
        var claimed = app.Clock.GetUtcNow().UtcDateTime - claimedAgo;
        var run = await app.ClaimRunAsync(config, $"usage:{eventId}", "external", started: claimed.AddMilliseconds(-950), finished: claimed, price);
        if (stopped == Stopped.AfterClaiming)
        {
            return run.Id;
        }
        var reservation = await app.ReserveForAsync(run, $"usage:{run.Id}:reserve", claimed);
        if (stopped == Stopped.AfterSettling)
        {
            var settle = await app.InScopeAsync(null, services => services.GetRequiredService<CreditLedger>().SettleAsync($"usage:{run.Id}:settle",
                run.OrganizationId, reservation, price, run.ProviderId, services.GetRequiredService<IOptions<CreditsOptions>>().Value.Split, "Reported run", default));
            Assert.True(settle.Succeeded);
        }
        return run.Id;
    }

    Task<HttpResponseMessage> PostSignedAsync(ProviderSecret provider, object report) =>
        PostRawSignedAsync(provider, JsonSerializer.SerializeToUtf8Bytes(report));

    Task<HttpResponseMessage> PostRawSignedAsync(ProviderSecret provider, byte[] body) =>
        app.CreateClient().SendAsync(Signed(provider.Id, provider.Secret, body, DateTimeOffset.UtcNow));

    static HttpRequestMessage Tampered(HttpRequestMessage signed, byte[] otherBody)
    {
        var content = new ByteArrayContent(otherBody);
        content.Headers.ContentType = new("application/json");
        signed.Content = content;
        return signed;
    }
}
