using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Api;

/// <summary>The list envelope every paginated endpoint returns: <c>{items, total, limit, offset}</c>.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, int Total, int Limit, int Offset);

/// <summary>Query parameters of a paginated list: <c>?limit=</c> (1–200, default 50) and <c>?offset=</c>.</summary>
public readonly record struct PageRequest(int Limit, int Offset)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    public static PageRequest From(int? limit, int? offset) =>
        new(Math.Clamp(limit ?? DefaultLimit, 1, MaxLimit), Math.Max(offset ?? 0, 0));

    public async Task<Page<T>> ToPageAsync<T>(IQueryable<T> query, CancellationToken cancellationToken)
    {
        var total = await query.CountAsync(cancellationToken);
        var items = await query.Skip(Offset).Take(Limit).ToListAsync(cancellationToken);
        return new Page<T>(items, total, Limit, Offset);
    }
}
