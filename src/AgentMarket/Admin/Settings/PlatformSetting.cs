using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Admin.Settings;

/// <summary>
/// One setting an operator changed in the console (e.g. <c>Branding:SiteName</c>), named like its configuration key.
/// A stored value overrides configuration; deleting the row returns to it.
/// </summary>
public sealed class PlatformSetting
{
    public required string Key { get; init; }
    public required string Value { get; set; }
    public DateTime UpdatedUtc { get; set; }
    public Guid? UpdatedByUserId { get; set; }
}

sealed class PlatformSettingConfiguration : IEntityTypeConfiguration<PlatformSetting>
{
    public void Configure(EntityTypeBuilder<PlatformSetting> e)
    {
        e.ToTable("platform_settings");
        e.HasKey(x => x.Key);
        e.Property(x => x.Key).HasMaxLength(100);
        e.Property(x => x.Value).HasMaxLength(4000);
    }
}
