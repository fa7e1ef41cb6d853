using AgentMarket.Catalog;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Data;

public sealed partial class AppDbContext
{
    public DbSet<Category> Categories => Set<Category>();
    public DbSet<Listing> Listings => Set<Listing>();
    public DbSet<Review> Reviews => Set<Review>();
}
