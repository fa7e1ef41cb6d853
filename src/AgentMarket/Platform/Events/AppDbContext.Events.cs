using AgentMarket.Platform.Events;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Data;

public sealed partial class AppDbContext
{
    public DbSet<OutboxEvent> OutboxEvents => Set<OutboxEvent>();
}
