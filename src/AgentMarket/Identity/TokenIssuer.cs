using AgentMarket.Audit;
using AgentMarket.Platform.Auth;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Identity;

/// <summary>Issues personal access tokens; the secret is returned once and only its hash is kept.</summary>
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
        await db.SaveChangesAsync(ct);
        return (token, secret);
    }
}
