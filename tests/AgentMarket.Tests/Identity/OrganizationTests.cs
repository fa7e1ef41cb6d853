using System.Net;
using System.Net.Http.Json;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Identity;

public class OrganizationTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task Invitation_AcceptedByTheInvitee_JoinsWithTheGivenRole()
    {
        var owner = await app.SignUpAsync();
        var invitee = await app.SignUpAsync();
        var accept = await InviteAsync(owner, invitee.Email, "manager");

        var accepted = await Http.ReadJsonAsync(await invitee.Client.PostAsJsonAsync("/api/invitations/accept", new { token = accept.Token }));
        Assert.Equal(owner.OrganizationId, accepted.GetProperty("organization").GetProperty("uuid").GetGuid());
        Assert.Equal("manager", accepted.GetProperty("role").GetString());

        var me = await Http.ReadJsonAsync(await invitee.Client.GetAsync("/api/me"));
        var joined = me.GetProperty("organizations").EnumerateArray().Single(o => o.GetProperty("uuid").GetGuid() == owner.OrganizationId);
        Assert.Equal("manager", joined.GetProperty("role").GetString());

        // The invitee now works in the owner's organization by naming it.
        var projects = await invitee.Client.SendAsync(Http.Request(HttpMethod.Get, "/api/projects/", owner.OrganizationId));
        Assert.Equal(owner.ProjectId, (await Http.ReadJsonAsync(projects)).GetProperty("items")[0].GetProperty("uuid").GetGuid());

        var again = await invitee.Client.PostAsJsonAsync("/api/invitations/accept", new { token = accept.Token });
        await Http.AssertProblemAsync(again, HttpStatusCode.NotFound, "invitation_invalid");
    }

    [Fact]
    public async Task Invitation_CannotBeAcceptedBySomeoneElse()
    {
        var owner = await app.SignUpAsync();
        var invitee = await app.SignUpAsync();
        var stranger = await app.SignUpAsync();
        var accept = await InviteAsync(owner, invitee.Email, "member");

        var response = await stranger.Client.PostAsJsonAsync("/api/invitations/accept", new { token = accept.Token });
        await Http.AssertProblemAsync(response, HttpStatusCode.NotFound, "invitation_invalid");
        await Http.AssertProblemAsync(await stranger.Client.SendAsync(Http.Request(HttpMethod.Get, "/api/projects/", owner.OrganizationId)), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task RevokedInvitation_CannotBeAccepted()
    {
        var owner = await app.SignUpAsync();
        var invitee = await app.SignUpAsync();
        var accept = await InviteAsync(owner, invitee.Email, "member");
        await Http.AssertStatusAsync(await owner.Client.DeleteAsync($"/api/invitations/{accept.Id}"), HttpStatusCode.NoContent);

        var response = await invitee.Client.PostAsJsonAsync("/api/invitations/accept", new { token = accept.Token });
        await Http.AssertProblemAsync(response, HttpStatusCode.NotFound, "invitation_invalid");
        var list = await Http.ReadJsonAsync(await owner.Client.GetAsync("/api/invitations/"));
        Assert.Equal("revoked", list.GetProperty("items")[0].GetProperty("state").GetString());
    }

    [Fact]
    public async Task Member_CannotManage_ButCanRead()
    {
        var owner = await app.SignUpAsync();
        var member = await JoinAsync(owner, "member");

        await Http.AssertStatusAsync(await member.Client.SendAsync(Http.Request(HttpMethod.Get, "/api/projects/", owner.OrganizationId)), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await member.Client.SendAsync(Http.Request(HttpMethod.Get, "/api/members/", owner.OrganizationId)), HttpStatusCode.OK);
        await Http.AssertProblemAsync(await member.Client.SendAsync(Http.Request(HttpMethod.Post, "/api/projects/", owner.OrganizationId, new { name = "Nope" })), HttpStatusCode.Forbidden, "insufficient_role");
        await Http.AssertProblemAsync(await member.Client.SendAsync(Http.Request(HttpMethod.Post, "/api/invitations/", owner.OrganizationId, new { email = "x@tests.example" })), HttpStatusCode.Forbidden, "insufficient_role");
        await Http.AssertProblemAsync(await member.Client.SendAsync(Http.Request(HttpMethod.Patch, $"/api/organizations/{owner.OrganizationId}", null, new { name = "Mine now" })), HttpStatusCode.Forbidden, "insufficient_role");
    }

    [Fact]
    public async Task Manager_CreatesProjects_AndInvitesMembers_ButNotOwners()
    {
        var owner = await app.SignUpAsync();
        var manager = await JoinAsync(owner, "manager");

        var created = await manager.Client.SendAsync(Http.Request(HttpMethod.Post, "/api/projects/", owner.OrganizationId, new { name = "Research", description = "R&D" }));
        var project = await Http.ReadJsonAsync(created, HttpStatusCode.Created);
        Assert.Equal("Research", project.GetProperty("name").GetString());
        await Http.AssertProblemAsync(await manager.Client.SendAsync(Http.Request(HttpMethod.Post, "/api/projects/", owner.OrganizationId, new { name = "Research" })), HttpStatusCode.Conflict, "conflict");

        await Http.AssertStatusAsync(await manager.Client.SendAsync(Http.Request(HttpMethod.Post, "/api/invitations/", owner.OrganizationId, new { email = "new@tests.example", role = "member" })), HttpStatusCode.Created);
        await Http.AssertProblemAsync(await manager.Client.SendAsync(Http.Request(HttpMethod.Post, "/api/invitations/", owner.OrganizationId, new { email = "boss@tests.example", role = "owner" })), HttpStatusCode.Forbidden, "insufficient_role");
    }

    [Fact]
    public async Task AProjectWithAgents_IsNotDeleted_UntilTheyAreRemoved_ThenTheirHistoryMovesToDefault()
    {
        var owner = await app.SignUpAsync();
        var agent = await app.PublishedAgentAsync();
        var project = (await Http.ReadJsonAsync(await owner.Client.PostAsJsonAsync("/api/projects/", new { name = "Campaign" }), HttpStatusCode.Created)).GetProperty("uuid").GetGuid();
        var config = (await Http.ReadJsonAsync(await owner.Client.PostAsJsonAsync("/api/marketplace-orders/", new { offering = agent.Slug, project }), HttpStatusCode.Created))
            .GetProperty("customer_agent_config").GetGuid();

        var refused = await Http.AssertProblemAsync(await owner.Client.DeleteAsync($"/api/projects/{project}"), HttpStatusCode.Conflict, "project_in_use");
        Assert.Contains("holds an agent", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await Http.AssertStatusAsync(await owner.Client.GetAsync($"/api/projects/{project}"), HttpStatusCode.OK);

        await Http.AssertStatusAsync(await owner.Client.DeleteAsync($"/api/customer-agent-configs/{config}/"), HttpStatusCode.NoContent);
        await Http.AssertStatusAsync(await owner.Client.DeleteAsync($"/api/projects/{project}"), HttpStatusCode.NoContent);
        var ended = await Http.ReadJsonAsync(await owner.Client.GetAsync($"/api/customer-agent-configs/{config}/"));
        Assert.Equal((owner.ProjectId, "terminated"), (ended.GetProperty("project").GetGuid(), ended.GetProperty("state").GetString()));
    }

    [Fact]
    public async Task DefaultProject_CannotBeDeletedOrRenamed_OtherProjectsCan()
    {
        var owner = await app.SignUpAsync();
        await Http.AssertProblemAsync(await owner.Client.DeleteAsync($"/api/projects/{owner.ProjectId}"), HttpStatusCode.Conflict, "default_project");
        await Http.AssertProblemAsync(await owner.Client.PatchAsJsonAsync($"/api/projects/{owner.ProjectId}", new { name = "Other" }), HttpStatusCode.Conflict, "default_project");

        var extra = await Http.ReadJsonAsync(await owner.Client.PostAsJsonAsync("/api/projects/", new { name = "Temp" }), HttpStatusCode.Created);
        var id = extra.GetProperty("uuid").GetGuid();
        var renamed = await Http.ReadJsonAsync(await owner.Client.PatchAsJsonAsync($"/api/projects/{id}", new { name = "Kept" }));
        Assert.Equal("Kept", renamed.GetProperty("name").GetString());
        await Http.AssertStatusAsync(await owner.Client.DeleteAsync($"/api/projects/{id}"), HttpStatusCode.NoContent);
        await Http.AssertProblemAsync(await owner.Client.GetAsync($"/api/projects/{id}"), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Owner_ChangesRoles_ButTheLastOwnerStays()
    {
        var owner = await app.SignUpAsync();
        var member = await JoinAsync(owner, "member");
        var members = await Http.ReadJsonAsync(await owner.Client.GetAsync("/api/members/"));
        Assert.Equal(2, members.GetProperty("total").GetInt32());
        var ownerMembership = members.GetProperty("items").EnumerateArray().Single(m => m.GetProperty("user").GetProperty("uuid").GetGuid() == owner.UserId).GetProperty("uuid").GetGuid();
        var memberMembership = members.GetProperty("items").EnumerateArray().Single(m => m.GetProperty("user").GetProperty("uuid").GetGuid() == member.UserId).GetProperty("uuid").GetGuid();

        await Http.AssertProblemAsync(await owner.Client.PatchAsJsonAsync($"/api/members/{ownerMembership}", new { role = "member" }), HttpStatusCode.Conflict, "last_owner");
        await Http.AssertProblemAsync(await owner.Client.DeleteAsync($"/api/members/{ownerMembership}"), HttpStatusCode.Conflict, "last_owner");

        var promoted = await Http.ReadJsonAsync(await owner.Client.PatchAsJsonAsync($"/api/members/{memberMembership}", new { role = "owner" }));
        Assert.Equal("owner", promoted.GetProperty("role").GetString());
        await Http.AssertProblemAsync(await owner.Client.PatchAsJsonAsync($"/api/members/{memberMembership}", new { role = "emperor" }), HttpStatusCode.BadRequest, "malformed_json");

        // With a second owner the first may leave.
        await Http.AssertStatusAsync(await owner.Client.DeleteAsync($"/api/members/{ownerMembership}"), HttpStatusCode.NoContent);
        await Http.AssertProblemAsync(await owner.Client.SendAsync(Http.Request(HttpMethod.Get, "/api/projects/", owner.OrganizationId)), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task CreateOrganization_MakesTheCallerOwner_WithADefaultProject()
    {
        var user = await app.SignUpAsync();
        var created = await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/organizations/", new { name = "Side Project Ltd" }), HttpStatusCode.Created);
        var id = created.GetProperty("uuid").GetGuid();
        var projects = await Http.ReadJsonAsync(await user.Client.SendAsync(Http.Request(HttpMethod.Get, "/api/projects/", id)));
        Assert.Equal("Default", projects.GetProperty("items")[0].GetProperty("name").GetString());
        var organization = await Http.ReadJsonAsync(await user.Client.GetAsync($"/api/organizations/{id}"));
        Assert.Equal("owner", organization.GetProperty("role").GetString());
        var list = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/organizations/"));
        Assert.Equal(2, list.GetArrayLength());
    }

    [Fact]
    public async Task Invitations_AreEmailedOnlyToThePublicAddress_AtMost20AnHour_AndNeverFromASuspendedOrganization()
    {
        var owner = await app.SignUpAsync();
        // No public address is configured here: nothing is emailed, and a forged Host header changes only the inviter's own copy.
        var forged = Http.Request(HttpMethod.Post, "/api/invitations/", json: new { email = "first@tests.example", role = "member" });
        forged.Headers.Host = "evil.example";
        var created = await Http.ReadJsonAsync(await owner.Client.SendAsync(forged), HttpStatusCode.Created);
        Assert.False(created.GetProperty("emailed").GetBoolean());
        Assert.Equal(0, await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().OutboxEmails.CountAsync(e => e.Recipient == "first@tests.example")));

        var page = await (await owner.Client.SubmitAsync("/organization", "invite", new() { ["Input.Email"] = "second@tests.example", ["Input.Role"] = "Member" })).HtmlAsync();
        Assert.Contains("send second@tests.example this link yourself", page, StringComparison.Ordinal);
        Assert.Contains("/invitations/accept?token=am_inv_", PageForms.Marked(page, "data-accept-url"), StringComparison.Ordinal);

        for (var i = 2; i < 20; i++)
        {
            await Http.AssertStatusAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = $"n{i}@tests.example", role = "member" }), HttpStatusCode.Created);
        }
        var limited = await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = "one-more@tests.example", role = "member" });
        await Http.AssertProblemAsync(limited, (HttpStatusCode)429, "rate_limited");
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero);

        var suspended = await app.SignUpAsync();
        var operatorClient = await app.OperatorAsync();
        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/organizations/{suspended.OrganizationId}/suspend", new { reason = "Spam." }), HttpStatusCode.OK);
        await Http.AssertProblemAsync(await suspended.Client.PostAsJsonAsync("/api/invitations/", new { email = "victim@tests.example", role = "member" }),
            HttpStatusCode.Forbidden, "organization_suspended");
    }

    sealed record Invite(Guid Id, string Token);

    static async Task<Invite> InviteAsync(TestUser owner, string email, string role)
    {
        var created = await Http.ReadJsonAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email, role }), HttpStatusCode.Created);
        var url = new Uri(created.GetProperty("accept_url").GetString()!);
        var token = System.Web.HttpUtility.ParseQueryString(url.Query)["token"]!;
        return new Invite(created.GetProperty("uuid").GetGuid(), token);
    }

    async Task<TestUser> JoinAsync(TestUser owner, string role)
    {
        var user = await app.SignUpAsync();
        var invite = await InviteAsync(owner, user.Email, role);
        await Http.AssertStatusAsync(await user.Client.PostAsJsonAsync("/api/invitations/accept", new { token = invite.Token }), HttpStatusCode.OK);
        return user;
    }
}
