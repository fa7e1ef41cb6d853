using System.ComponentModel.DataAnnotations;
using AgentMarket.Audit;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Auth;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Mail;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Platform.Ui;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Identity;

public sealed record InviteRequest([property: Required, EmailAddress, MaxLength(254)] string Email, MembershipRole Role = MembershipRole.Member);
public sealed record InvitationResponse(Guid Uuid, string Email, MembershipRole Role, InvitationState State, DateTime Created, DateTime Expires);
/// <param name="Emailed">False when the marketplace has no public address to put in an email (<c>Marketplace:PublicUrl</c>): share <paramref name="AcceptUrl"/> yourself.</param>
public sealed record CreatedInvitationResponse(Guid Uuid, string Email, MembershipRole Role, InvitationState State, DateTime Created, DateTime Expires, string AcceptUrl, bool Emailed);
public sealed record AcceptInvitationRequest([property: Required, MaxLength(100)] string Token);
public sealed record AcceptedInvitationResponse(OrganizationResponse Organization, MembershipRole Role);

static class InvitationEndpoints
{
    public const string TokenPrefix = "am_inv_";

    public static void MapInvitations(this IEndpointRouteBuilder routes)
    {
        var invitations = routes.MapGroup("/api/invitations").WithTags("Organizations");
        invitations.MapGet("/", ListAsync).WithName("ListInvitations").RequireOrganization(MembershipRole.Manager);
        invitations.MapPost("/", InviteAsync).WithName("CreateInvitation").RequireOrganization(MembershipRole.Manager);
        invitations.MapDelete("/{uuid:guid}", RevokeAsync).WithName("RevokeInvitation").RequireOrganization(MembershipRole.Manager);
        invitations.MapPost("/accept", AcceptAsync).WithName("AcceptInvitation").RequireUser();
    }

    static async Task<Ok<Page<InvitationResponse>>> ListAsync(int? limit, int? offset, CurrentTenant tenant, AppDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var organizationId = tenant.RequiredOrganizationId;
        var page = await PageRequest.From(limit, offset).ToPageAsync(
            db.Invitations.AsNoTracking().Where(i => i.OrganizationId == organizationId).OrderByDescending(i => i.CreatedUtc), ct);
        var now = clock.GetUtcNow().UtcDateTime;
        return TypedResults.Ok(new Page<InvitationResponse>(
            page.Items.Select(i => new InvitationResponse(i.Id, i.Email, i.Role, i.StateAt(now), i.CreatedUtc, i.ExpiresUtc)).ToList(), page.Total, page.Limit, page.Offset));
    }

    static async Task<IResult> InviteAsync(InviteRequest request, Invitations invitations, HttpContext http, CancellationToken ct)
    {
        var (created, failure) = await invitations.InviteAsync(request.Email, request.Role, PublicBaseUrl(http), ct);
        return failure is not null
            ? failure.ToProblem(http)
            : TypedResults.Created($"/api/invitations/{created!.Uuid}", created);
    }

    /// <summary>Revokes a pending invitation; one already accepted or revoked answers the same (the request's end holds).</summary>
    static async Task<IResult> RevokeAsync(Guid uuid, Invitations invitations, CancellationToken ct) =>
        await invitations.RevokeAsync(uuid, ct) switch
        {
            Invitations.Revocation.NotFound => ApiProblem.NotFound("invitation"),
            _ => TypedResults.NoContent(),
        };

    static async Task<IResult> AcceptAsync(AcceptInvitationRequest request, Invitations invitations, HttpContext http, CancellationToken ct)
    {
        var (accepted, failure) = await invitations.AcceptAsync(request.Token, ct);
        return failure is not null ? failure.ToProblem(http) : TypedResults.Ok(accepted);
    }

    public static string PublicBaseUrl(HttpContext http) =>
        http.RequestServices.GetRequiredService<IConfiguration>()["Marketplace:PublicUrl"]?.TrimEnd('/')
            ?? $"{http.Request.Scheme}://{http.Request.Host}";
}

/// <summary>Creating and accepting invitations, shared by the API and the organization pages.</summary>
public sealed class Invitations(
    AppDbContext db, CurrentTenant tenant, IOptions<AccountOptions> options, TimeProvider clock, AuditLog audit, IConfiguration configuration, IHostEnvironment environment)
{
    /// <summary>Invitations an organization may send in an hour: a team's worth, not a mailing list's.</summary>
    public const int MaxPerHour = 20;

    /// <summary>What revoking an invitation found.</summary>
    public enum Revocation { Revoked, NotPending, NotFound, NotAllowed }

    /// <summary>
    /// Revokes a pending invitation of the caller's organization, audited, and withdraws its email if not sent yet, for the
    /// API and the page alike. The conditional update decides, so a revocation racing an acceptance either wins or finds
    /// the invitation no longer pending.
    /// </summary>
    public async Task<Revocation> RevokeAsync(Guid invitationId, CancellationToken ct)
    {
        if (!tenant.HasRole(MembershipRole.Manager))
        {
            return Revocation.NotAllowed;
        }
        var organizationId = tenant.RequiredOrganizationId;
        var invitation = await db.Invitations.AsNoTracking().FirstOrDefaultAsync(i => i.Id == invitationId && i.OrganizationId == organizationId, ct);
        if (invitation is null)
        {
            return Revocation.NotFound;
        }
        var now = clock.GetUtcNow().UtcDateTime;
        if (await db.Invitations.Where(i => i.Id == invitationId && i.OrganizationId == organizationId && i.AcceptedUtc == null && i.RevokedUtc == null)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.RevokedUtc, now), ct) == 0)
        {
            return Revocation.NotPending;
        }
        await audit.RecordAsync(AuditActions.InvitationRevoked, organizationId, "invitation", invitation.Id, before: new { invitation.Email, invitation.Role }, ct: ct);
        // After the revocation is saved: should this fail, the email still goes out with a link that no longer works.
        await db.OutboxEmails.WithdrawUnsentAsync(OutboxEmail.AboutInvitation(organizationId, invitation.Email), "the invitation was revoked.", now, ct);
        return Revocation.Revoked;
    }

    /// <summary>
    /// Invites <paramref name="email"/>. The invitation is emailed when the marketplace knows its public address
    /// (<see cref="PublicAddress.ForEmails"/>); the inviter always gets the accept link to share, built from
    /// <paramref name="requestBaseUrl"/> when there is none. A suspended organization invites nobody, and an organization
    /// sends at most <see cref="MaxPerHour"/> in an hour, so the marketplace's mail server relays no one's mass mailing.
    /// </summary>
    public async Task<(CreatedInvitationResponse? Created, Accounts.Failure? Failure)> InviteAsync(string email, MembershipRole role, string requestBaseUrl, CancellationToken ct)
    {
        var organizationId = tenant.RequiredOrganizationId;
        var normalized = User.NormalizeEmail(email);
        // Checked here, not only by the route: every caller (API, page) gets the same rule.
        if (!tenant.HasRole(MembershipRole.Manager))
        {
            return (null, new Accounts.Failure(StatusCodes.Status403Forbidden, ProblemCodes.InsufficientRole, "Only owners and managers can invite."));
        }
        if (role == MembershipRole.Owner && !tenant.HasRole(MembershipRole.Owner))
        {
            return (null, new Accounts.Failure(StatusCodes.Status403Forbidden, ProblemCodes.InsufficientRole, "Only owners can invite owners."));
        }
        if (await db.Organizations.IsSuspendedAsync(organizationId, ct))
        {
            return (null, new Accounts.Failure(StatusCodes.Status403Forbidden, ProblemCodes.OrganizationSuspended, ProblemCodes.OrganizationSuspendedMessage));
        }
        var hourAgo = clock.GetUtcNow().UtcDateTime.AddHours(-1);
        var lastHour = await db.Invitations.Where(i => i.OrganizationId == organizationId && i.CreatedUtc > hourAgo).Select(i => i.CreatedUtc).OrderBy(c => c).ToListAsync(ct);
        if (lastHour.Count >= MaxPerHour)
        {
            return (null, new Accounts.Failure(StatusCodes.Status429TooManyRequests, ProblemCodes.RateLimited,
                $"This organization has sent {MaxPerHour} invitations in the last hour; send more later.", RetryAfter: lastHour[^MaxPerHour] - hourAgo));
        }
        if (await db.Memberships.AnyAsync(m => m.OrganizationId == organizationId && m.User!.Email == normalized, ct))
        {
            return (null, new Accounts.Failure(StatusCodes.Status409Conflict, ProblemCodes.AlreadyMember, "This person is already a member.", "email"));
        }
        var now = clock.GetUtcNow().UtcDateTime;
        // A new invitation replaces any pending one for the same address, so only the latest link works.
        await db.Invitations.Where(i => i.OrganizationId == organizationId && i.Email == normalized && i.AcceptedUtc == null && i.RevokedUtc == null)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.RevokedUtc, now), ct);
        await db.OutboxEmails.WithdrawUnsentAsync(OutboxEmail.AboutInvitation(organizationId, normalized), "a newer invitation replaced it.", now, ct);
        var secret = SecretToken.Generate(InvitationEndpoints.TokenPrefix);
        var invitation = new Invitation
        {
            OrganizationId = organizationId,
            Email = normalized,
            Role = role,
            TokenHash = SecretToken.Hash(secret),
            InvitedByUserId = tenant.UserId!.Value,
            CreatedUtc = now,
            ExpiresUtc = now.AddDays(options.Value.InvitationDays),
        };
        var organizationName = await db.Organizations.Where(o => o.Id == organizationId).Select(o => o.Name).FirstAsync(ct);
        var emailBase = PublicAddress.ForEmails(configuration, environment, requestBaseUrl);
        var acceptUrl = $"{emailBase ?? requestBaseUrl}/invitations/accept?token={secret}";
        db.Invitations.Add(invitation);
        if (emailBase is not null)
        {
            db.OutboxEmails.Add(new OutboxEmail
            {
                Recipient = normalized,
                Subject = $"You are invited to join {organizationName}",
                Body = $"You have been invited to join {organizationName} as {role.ToString().ToLowerInvariant()}.\n\nAccept the invitation: {acceptUrl}\n\nThe link expires on {invitation.ExpiresUtc:yyyy-MM-dd}.",
                CreatedUtc = now,
                ExpiresUtc = invitation.ExpiresUtc,
                About = OutboxEmail.AboutInvitation(organizationId, normalized),
            });
        }
        audit.Record(AuditActions.InvitationCreated, organizationId, "invitation", invitation.Id, after: new { invitation.Email, invitation.Role });
        await db.SaveChangesAsync(ct);
        return (new CreatedInvitationResponse(invitation.Id, invitation.Email, invitation.Role, InvitationState.Pending, invitation.CreatedUtc, invitation.ExpiresUtc, acceptUrl,
            Emailed: emailBase is not null), null);
    }

    /// <summary>Joins the signed-in user to the inviting organization. The invitation must be addressed to their email.</summary>
    public async Task<(AcceptedInvitationResponse? Accepted, Accounts.Failure? Failure)> AcceptAsync(string token, CancellationToken ct)
    {
        var invalid = new Accounts.Failure(StatusCodes.Status404NotFound, ProblemCodes.InvitationInvalid, "This invitation does not exist, has expired, or is for another email address.");
        if (!SecretToken.IsWellFormed(token, InvitationEndpoints.TokenPrefix))
        {
            return (null, invalid);
        }
        var hash = SecretToken.Hash(token);
        var userId = tenant.UserId!.Value;
        var email = tenant.UserEmail;
        // The membership/invitation filter shows this user only invitations addressed to their own email.
        var invitation = await db.Invitations.Include(i => i.Organization).FirstOrDefaultAsync(i => i.TokenHash == hash && i.Email == email, ct);
        var now = clock.GetUtcNow().UtcDateTime;
        if (invitation is null || invitation.StateAt(now) != InvitationState.Pending)
        {
            return (null, invalid);
        }
        var alreadyMember = await db.Memberships.AnyAsync(m => m.OrganizationId == invitation.OrganizationId && m.UserId == userId, ct);
        if (!alreadyMember)
        {
            db.Memberships.Add(new Membership { OrganizationId = invitation.OrganizationId, UserId = userId, Role = invitation.Role, CreatedUtc = now });
        }
        invitation.AcceptedUtc = now;
        invitation.AcceptedByUserId = userId;
        audit.Record(AuditActions.InvitationAccepted, invitation.OrganizationId, "invitation", invitation.Id, after: new { invitation.Email, invitation.Role });
        await db.SaveChangesAsync(ct);
        // Accepted through a link the inviter passed on: the invitation email, if still waiting, would only confuse.
        await db.OutboxEmails.WithdrawUnsentAsync(OutboxEmail.AboutInvitation(invitation.OrganizationId, invitation.Email), "the invitation was accepted.", now, ct);
        return (new AcceptedInvitationResponse(new OrganizationResponse(invitation.OrganizationId, invitation.Organization!.Name), invitation.Role), null);
    }
}
