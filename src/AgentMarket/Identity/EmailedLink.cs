using AgentMarket.Platform.Auth;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Identity;

/// <summary>
/// A single-use link emailed to a user (a password reset, an email change, its undo): only the hash of its secret is
/// stored, and it works until it is used, replaced or expires. Each kind keeps its own table (ADR-139).
/// </summary>
public interface IEmailedLink
{
    Guid Id { get; }
    string TokenHash { get; }
    DateTime ExpiresUtc { get; }
    DateTime? UsedUtc { get; }
}

static class EmailedLinks
{
    /// <summary>The usable link whose secret is <paramref name="token"/>, if any; a malformed secret is not looked up.</summary>
    public static async Task<T?> FindUsableAsync<T>(this IQueryable<T> links, string? token, string prefix, DateTime now, CancellationToken ct)
        where T : class, IEmailedLink
    {
        if (string.IsNullOrEmpty(token) || !SecretToken.IsWellFormed(token, prefix))
        {
            return null;
        }
        var hash = SecretToken.Hash(token);
        return await links.AsNoTracking().FirstOrDefaultAsync(t => t.TokenHash == hash && t.UsedUtc == null && t.ExpiresUtc > now, ct);
    }

    /// <summary>Marks link <paramref name="id"/> used if it still is usable: of two requests at once, only one gets true.</summary>
    public static async Task<bool> ClaimAsync<T>(this DbSet<T> links, Guid id, DateTime now, CancellationToken ct) where T : class, IEmailedLink =>
        await links.Where(t => t.Id == id && t.UsedUtc == null && t.ExpiresUtc > now)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.UsedUtc, now), ct) == 1;
}
