using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Payments;

public sealed record ReceiptLine(string Description, int Quantity, long UnitCents, long AmountCents);

/// <summary>A numbered receipt for one payment: who paid, what, amounts in cents, tax, status. Viewable and printable.</summary>
public sealed class Receipt : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();

    /// <summary>Sequential across the platform, shown as <see cref="Number"/>.</summary>
    public long Sequence { get; init; }
    public Guid OrganizationId { get; init; }
    public Guid PaymentId { get; init; }
    public required string BillTo { get; init; }
    public List<ReceiptLine> Lines { get; init; } = [];
    public long SubtotalCents { get; init; }
    public long TaxCents { get; init; }
    public long TotalCents { get; init; }
    public string Currency { get; init; } = "usd";
    public PaymentStatus Status { get; set; }
    public bool TestMode { get; init; }
    public DateTime IssuedUtc { get; init; }

    public string Number => $"AM-{Sequence:D6}";
}

sealed class ReceiptConfiguration : IEntityTypeConfiguration<Receipt>
{
    public void Configure(EntityTypeBuilder<Receipt> e)
    {
        e.ToTable("receipts");
        e.Property(x => x.BillTo).HasMaxLength(200);
        e.Property(x => x.Currency).HasMaxLength(3);
        e.OwnsMany(x => x.Lines, lines => lines.ToJson("lines"));
        e.HasIndex(x => x.Sequence).IsUnique();
        e.HasIndex(x => x.PaymentId).IsUnique();
        e.HasIndex(x => new { x.OrganizationId, x.IssuedUtc });
        e.Ignore(x => x.Number);
    }
}
