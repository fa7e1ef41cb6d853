using System.Xml.Linq;
using AgentMarket.Platform.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.Extensions.Options;

namespace AgentMarket.Platform.Security;

/// <summary>
/// A Data Protection key ring entry (cookies, antiforgery, encrypted secrets). Keys live in the database so every
/// replica can read what another encrypted and a restart does not sign everyone out; their secret parts are encrypted
/// with a key kept outside it (<see cref="KeyEncryptionKey"/>).
/// </summary>
public sealed class DataProtectionKey
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public string? FriendlyName { get; init; }
    /// <summary>The key's XML; its secret parts are encrypted (<see cref="KeyEncryptionKey"/>).</summary>
    public required string Xml { get; set; }
}

sealed class DataProtectionKeyConfiguration : IEntityTypeConfiguration<DataProtectionKey>
{
    public void Configure(EntityTypeBuilder<DataProtectionKey> e)
    {
        e.ToTable("data_protection_keys");
        e.Property(x => x.FriendlyName).HasMaxLength(200);
    }
}

/// <summary>Stores the key ring in <c>data_protection_keys</c> (the framework's EF store is not in the package mirror).</summary>
sealed class DatabaseXmlRepository(IServiceScopeFactory scopes, KeyEncryptionKey key) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        return db.DataProtectionKeys.AsNoTracking().Select(k => k.Xml).ToList().Select(XElement.Parse).ToList();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        // A process whose key-encryption key cannot read the stored keys makes a new key rather than fail; storing it
        // would split the key ring (two processes started together, before either stored a key, with different keys).
        var stored = db.DataProtectionKeys.AsNoTracking().Select(k => k.Xml).ToList();
        if (stored.SelectMany(xml => KeyEncryptionKey.KeyIdsIn(XElement.Parse(xml))).FirstOrDefault(id => !key.Reads(id)) is { } otherKey)
        {
            throw new InvalidOperationException(key.MismatchMessage(otherKey));
        }
        db.DataProtectionKeys.Add(new DataProtectionKey { FriendlyName = friendlyName, Xml = element.ToString(SaveOptions.DisableFormatting) });
        db.SaveChanges();
    }
}

static class DataProtectionSetup
{
    public static void AddDatabaseDataProtection(this IServiceCollection services)
    {
        // Registered before Data Protection's own start-up service, which loads the key ring (and would make a new one
        // if it could not decrypt the stored keys): hosted services start in the order they were added.
        services.AddHostedService<KeyRingEncryptionStartup>();
        services.AddDataProtection().SetApplicationName("AgentMarket");
        services.AddOptions<KeyRingEncryptionOptions>().BindConfiguration("DataProtection");
        services.AddSingleton(provider => KeyEncryptionKey.Load(
            provider.GetRequiredService<IOptions<KeyRingEncryptionOptions>>().Value,
            provider.GetRequiredService<IOptions<StorageOptions>>().Value,
            provider.GetRequiredService<IOptions<DatabaseOptions>>().Value.Provider,
            provider.GetRequiredService<ILoggerFactory>().CreateLogger<KeyEncryptionKey>()));
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(provider => new ConfigureOptions<KeyManagementOptions>(o =>
        {
            o.XmlRepository = new DatabaseXmlRepository(provider.GetRequiredService<IServiceScopeFactory>(), provider.GetRequiredService<KeyEncryptionKey>());
            o.XmlEncryptor = new KeyRingEncryptor(provider.GetRequiredService<KeyEncryptionKey>());
        }));
    }
}
