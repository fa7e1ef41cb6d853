using AgentMarket.Audit;
using AgentMarket.Platform.Auth;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Mail;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Identity;

/// <summary>
/// Issues personal access tokens; the secret is returned once and only its hash is kept. The owner is emailed about each
/// one: a token minted with a stolen password outlives the password's reset only if nobody notices it (ADR-151).
/// </summary>
public sealed class TokenIssuer(AppDbContext db, TimeProvider clock, AuditLog audit)
{
    public async Task<(PersonalAccessToken Token, string Secret)> IssueAsync(Guid userId, string name, DateTime? expiresUtc, CancellationToken ct)
    {
        var secret = SecretToken.Generate(PersonalAccessTokenHandler.Prefix);
        var token = new PersonalAccessToken
        {
            UserId = userId,
            Name = name.Trim(),
            Prefix = SecretToken.DisplayPrefix(secret, PersonalAccessTokenHandler.Prefix),
            TokenHash = SecretToken.Hash(secret),
            CreatedUtc = clock.GetUtcNow().UtcDateTime,
            ExpiresUtc = expiresUtc,
        };
        db.PersonalAccessTokens.Add(token);
        var email = await db.Users.Where(u => u.Id == userId).Select(u => u.Email).FirstOrDefaultAsync(ct);
        audit.Record(AuditActions.PersonalTokenCreated, null, "personal_token", token.Id,
            after: new { token.Name, token.Prefix, expires = token.ExpiresUtc }, actorUserId: userId, actorEmail: email);
        if (email is not null)
        {
            db.OutboxEmails.Add(new OutboxEmail
            {
                Recipient = email,
                Subject = "A personal access token was created",
                Body = $"A personal access token \"{token.Name}\" ({token.Prefix}…) was created for your account {email} on {token.CreatedUtc:yyyy-MM-dd} at {token.CreatedUtc:HH:mm} UTC. " +
                    "It acts as you in scripts until it expires or is revoked.\n\n" +
                    "If it was not you, revoke it under \"Personal access tokens\" on your organization's page, then reset your password (\"Forgot your password?\" on the sign-in page): " +
                    "a reset also revokes every token of the account.",
                CreatedUtc = token.CreatedUtc,
            });
        }
        await db.SaveChangesAsync(ct);
        return (token, secret);
    }
}
