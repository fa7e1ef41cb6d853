using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Providers;

public class ProviderApplicationTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task Apply_WithAutoApproval_IsApprovedAtOnce_AndHasAPublicProfile()
    {
        var user = await app.SignUpAsync();
        var handle = $"acme-{Guid.NewGuid():N}"[..20];
        var created = await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/providers/", new { handle = "@" + handle.ToUpperInvariant(), name = "Acme AI", bio = "We build agents." }), HttpStatusCode.Created);
        Assert.Equal(handle, created.GetProperty("handle").GetString());
        Assert.Equal("approved", created.GetProperty("state").GetString());

        var profile = await Http.ReadJsonAsync(await app.CreateClient().GetAsync($"/api/providers/{handle}"));
        Assert.Equal("Acme AI", profile.GetProperty("name").GetString());
        var me = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/me"));
        Assert.True(me.GetProperty("organizations")[0].GetProperty("is_provider").GetBoolean());
    }

    [Fact]
    public async Task Apply_TakenHandle_Returns409_AndSecondApplication_Returns409()
    {
        var first = await app.SignUpAsync();
        var second = await app.SignUpAsync();
        var handle = $"h-{Guid.NewGuid():N}"[..16];
        await Http.AssertStatusAsync(await first.Client.PostAsJsonAsync("/api/providers/", new { handle, name = "First" }), HttpStatusCode.Created);

        await Http.AssertProblemAsync(await second.Client.PostAsJsonAsync("/api/providers/", new { handle, name = "Second" }), HttpStatusCode.Conflict, "handle_taken");
        await Http.AssertProblemAsync(await first.Client.PostAsJsonAsync("/api/providers/", new { handle = handle + "x", name = "Again" }), HttpStatusCode.Conflict, "already_provider");
    }

    [Theory]
    [InlineData("a")]
    [InlineData("-leading")]
    [InlineData("trailing-")]
    [InlineData("double--hyphen")]
    [InlineData("has space")]
    [InlineData("../etc")]
    [InlineData("ÜNICODE")]
    public async Task Apply_InvalidHandle_Returns400(string handle)
    {
        var user = await app.SignUpAsync();
        await Http.AssertProblemAsync(await user.Client.PostAsJsonAsync("/api/providers/", new { handle, name = "X" }), HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task PublicProfile_UnknownHandle_Returns404()
    {
        await Http.AssertProblemAsync(await app.CreateClient().GetAsync("/api/providers/no-such-provider"), HttpStatusCode.NotFound, "not_found");
    }
}

/// <summary>An app where operators decide on provider applications.</summary>
public sealed class ManualApprovalApp : AgentMarketApp
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() => [new("Marketplace:AutoApproveProviders", "false")];
}

public class ProviderApprovalTests(ManualApprovalApp app) : IClassFixture<ManualApprovalApp>
{
    [Fact]
    public async Task Apply_WithoutAutoApproval_WaitsForTheOperator_WhoApproves()
    {
        var user = await app.SignUpAsync();
        var handle = $"p-{Guid.NewGuid():N}"[..16];
        var created = await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/providers/", new { handle, name = "Pending Co" }), HttpStatusCode.Created);
        Assert.Equal("pending", created.GetProperty("state").GetString());
        await Http.AssertStatusAsync(await app.CreateClient().GetAsync($"/api/providers/{handle}"), HttpStatusCode.NotFound);

        var operatorClient = await app.OperatorAsync();
        var queue = await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/providers/?state=pending"));
        var id = queue.GetProperty("items").EnumerateArray().Single(p => p.GetProperty("handle").GetString() == handle).GetProperty("uuid").GetGuid();
        var approved = await Http.ReadJsonAsync(await operatorClient.PostAsync($"/api/admin/providers/{id}/approve", null));
        Assert.Equal("approved", approved.GetProperty("state").GetString());

        await Http.AssertStatusAsync(await app.CreateClient().GetAsync($"/api/providers/{handle}"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task Operator_Rejects_WithAReason_TheApplicantSees()
    {
        var user = await app.SignUpAsync();
        var handle = $"r-{Guid.NewGuid():N}"[..16];
        var created = await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/providers/", new { handle, name = "Rejected Co" }), HttpStatusCode.Created);
        var operatorClient = await app.OperatorAsync();
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"/api/admin/providers/{created.GetProperty("uuid").GetGuid()}/reject", new { reason = "" }), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/providers/{created.GetProperty("uuid").GetGuid()}/reject", new { reason = "Incomplete profile" }), HttpStatusCode.OK);

        var mine = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/providers/mine"));
        Assert.Equal("rejected", mine.GetProperty("state").GetString());
        Assert.Equal("Incomplete profile", mine.GetProperty("decision_reason").GetString());
    }

    [Fact]
    public async Task AdminRoutes_AreNotFound_ForUsersAndVisitors()
    {
        var user = await app.SignUpAsync();
        await Http.AssertProblemAsync(await user.Client.GetAsync("/api/admin/providers/"), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await app.CreateClient().GetAsync("/api/admin/providers/"), HttpStatusCode.NotFound, "not_found");
    }
}
