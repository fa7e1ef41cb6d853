using AgentMarket.Payments;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Data;

public sealed partial class AppDbContext
{
    public DbSet<Payment> Payments => Set<Payment>();
    public DbSet<PaymentRefund> PaymentRefunds => Set<PaymentRefund>();
    public DbSet<Receipt> Receipts => Set<Receipt>();
    public DbSet<PaymentCustomer> PaymentCustomers => Set<PaymentCustomer>();
}
