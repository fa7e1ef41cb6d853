using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using AgentMarket.Identity;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Identity;

/// <summary>The app whose counts of an organization's owners can be held, so that two requests count at the same time.</summary>
public sealed class OwnerCountsApp : AgentMarketApp
{
    public OwnerCountGate Gate { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<IInterceptor>(Gate));
    }
}

/// <summary>
/// Once armed, holds the next two counts of owners until both have arrived, or until <see cref="Wait"/> has passed for one
/// that waits alone (the other request cannot count before the first is done, which is the point).
/// </summary>
public sealed class OwnerCountGate : DbCommandInterceptor
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(3);

    TaskCompletionSource? _both;
    int _arrived;

    public void Arm()
    {
        _arrived = 0;
        Volatile.Write(ref _both, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
    }

    public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result,
        CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _both) is { } both && command.CommandText.Contains("memberships", StringComparison.Ordinal)
            && command.CommandText.Contains("COUNT(*)", StringComparison.OrdinalIgnoreCase))
        {
            var arrived = Interlocked.Increment(ref _arrived);
            if (arrived == 2)
            {
                Volatile.Write(ref _both, null);
                both.TrySetResult();
            }
            if (arrived <= 2)
            {
                await Task.WhenAny(both.Task, Task.Delay(Wait, cancellationToken));
            }
        }
        return await base.ReaderExecutingAsync(command, eventData, result, cancellationToken);
    }
}

/// <summary>An organization always keeps an owner, even when its two owners demote or remove each other at the same moment.</summary>
public class LastOwnerRaceTests(OwnerCountsApp app) : IClassFixture<OwnerCountsApp>
{
    [Fact]
    public async Task TwoOwnersDemotingEachOtherAtOnce_OneSucceeds_TheOtherIsRefusedAsTheLastOwner()
    {
        var (first, second, firstMembership, secondMembership) = await TwoOwnersAsync();

        app.Gate.Arm();
        var answers = await Task.WhenAll(
            first.Client.PatchAsJsonAsync($"/api/members/{secondMembership}", new { role = "member" }),
            second.Client.PatchAsJsonAsync($"/api/members/{firstMembership}", new { role = "member" }));

        await AssertOneOwnerLeftAsync(first, answers);
    }

    [Fact]
    public async Task TwoOwnersRemovingEachOtherAtOnce_OneSucceeds_TheOtherIsRefusedAsTheLastOwner()
    {
        var (first, second, firstMembership, secondMembership) = await TwoOwnersAsync();

        app.Gate.Arm();
        var answers = await Task.WhenAll(
            first.Client.DeleteAsync($"/api/members/{secondMembership}"),
            second.Client.DeleteAsync($"/api/members/{firstMembership}"));

        await AssertOneOwnerLeftAsync(first, answers);
    }

    async Task<(TestUser First, TestUser Second, Guid FirstMembership, Guid SecondMembership)> TwoOwnersAsync()
    {
        var first = await app.SignUpAsync();
        var second = await app.JoinAsync(first, "owner");
        var members = (await Http.ReadJsonAsync(await first.Client.GetAsync("/api/members/"))).GetProperty("items").EnumerateArray().ToList();
        Guid MembershipOf(TestUser user) => members.Single(m => m.GetProperty("user").GetProperty("uuid").GetGuid() == user.UserId).GetProperty("uuid").GetGuid();
        return (first, second, MembershipOf(first), MembershipOf(second));
    }

    async Task AssertOneOwnerLeftAsync(TestUser first, HttpResponseMessage[] answers)
    {
        Assert.Single(answers, a => a.IsSuccessStatusCode);
        await Http.AssertProblemAsync(answers.Single(a => !a.IsSuccessStatusCode), HttpStatusCode.Conflict, "last_owner");
        var owners = await app.InScopeAsync(first.OrganizationId, services => services.GetRequiredService<AppDbContext>().Memberships
            .CountAsync(m => m.OrganizationId == first.OrganizationId && m.Role == MembershipRole.Owner));
        Assert.Equal(1, owners);
    }
}
