using AgentMarket.Runtime;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Data;

public sealed partial class AppDbContext
{
    public DbSet<SessionMessage> SessionMessages => Set<SessionMessage>();
    public DbSet<ChatSession> ChatSessions => Set<ChatSession>();
}
