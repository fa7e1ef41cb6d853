using AgentMarket.Platform.Mail;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Data;

public sealed partial class AppDbContext
{
    public DbSet<OutboxEmail> OutboxEmails => Set<OutboxEmail>();
}
