using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Xml.Linq;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Security;
using AgentMarket.Tests.Infrastructure;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Platform;

/// <summary>
/// The Data Protection key ring (which signs cookies and encrypts the secrets stored in the database) is stored
/// encrypted with a key kept outside the database, so a copy of the database alone reveals neither.
/// </summary>
public class KeyRingEncryptionTests
{
    [Fact]
    public async Task TheStoredKeyRing_HoldsNoKeyInTheClear_AndTheKeyFile_IsTheOwnersAlone()
    {
        await using var database = TestDatabase.Create();
        await using var app = new AnotherProcess(database);
        await app.InitializeAsync();
        await app.SignUpAsync(); // its session cookie makes the first key

        var stored = await StoredKeysAsync(app);
        Assert.NotEmpty(stored);
        Assert.All(stored, key =>
        {
            Assert.DoesNotContain(key.Descendants(), IsMasterKey);
            Assert.Contains(key.Descendants(), e => e.Name.LocalName == "encryptedSecret"
                && ((string?)e.Attribute("decryptorType"))!.StartsWith("AgentMarket.Platform.Security.KeyRingDecryptor,", StringComparison.Ordinal));
        });

        var keyFile = database.KeyEncryptionKeyFile;
        Assert.Equal(KeyEncryptionKey.Size, Convert.FromBase64String(File.ReadAllText(keyFile).Trim()).Length);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AProcessWithTheSameKey_ReadsTheKeyRing_SoASessionCarriesOver(bool configured)
    {
        await using var database = TestDatabase.Create();
        // The key in the configuration, as replicas get it from a secret store, or in the shared file.
        KeyValuePair<string, string?>[] key = configured
            ? [new("DataProtection:KeyEncryptionKey", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))), new("DataProtection:KeyEncryptionKeyFile", null)]
            : [];
        await using var first = new AnotherProcess(database, key);
        await first.InitializeAsync();
        var user = await first.SignUpAsync();
        var cookie = await SessionCookieAsync(first, user);
        Assert.Equal(!configured, File.Exists(database.KeyEncryptionKeyFile));

        await using var second = new AnotherProcess(database, key);
        await second.InitializeAsync();
        Assert.Equal(user.Email, (await MeAsync(second, cookie)).GetProperty("user").GetProperty("email").GetString());
    }

    [Fact]
    public async Task AProcessWithAnotherKey_RefusesToStart_AndSaysWhichKeyItNeeds()
    {
        await using var database = TestDatabase.Create();
        await using var first = new AnotherProcess(database);
        await first.InitializeAsync();
        await first.SignUpAsync();
        var before = await StoredKeysAsync(first);

        await using var other = new AnotherProcess(database, [new("DataProtection:KeyEncryptionKey", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)))]);
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(async () => await other.InitializeAsync());
        Assert.Contains("DataProtection:KeyEncryptionKey", refused.Message, StringComparison.Ordinal);
        var storedId = KeyEncryptionKey.KeyIdsIn(before[0]).First();
        Assert.Contains($"encrypted with key-encryption key {storedId}", refused.Message, StringComparison.Ordinal);

        // Nothing was rewritten: the first process's key ring is as it was.
        Assert.Equal(before.Select(k => k.ToString()), (await StoredKeysAsync(first)).Select(k => k.ToString()));
    }

    [Theory]
    [InlineData("not base64!", "not base64")]
    [InlineData("c2hvcnQ=", "5 bytes; it must be 32")]
    public async Task AMalformedConfiguredKey_StopsStartUp_WithAClearMessage(string configured, string expected)
    {
        await using var database = TestDatabase.Create();
        await using var app = new AnotherProcess(database, [new("DataProtection:KeyEncryptionKey", configured)]);
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(async () => await app.InitializeAsync());
        Assert.Contains(expected, refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(configured, refused.Message, StringComparison.Ordinal); // a key, even a wrong one, is not echoed
    }

    [Fact]
    public async Task WithoutAConfiguredKey_SqliteMakesOneInItsDataDirectory_AndPostgresRefusesToStart()
    {
        await using var database = TestDatabase.Create();
        await using var app = new AnotherProcess(database, [new("DataProtection:KeyEncryptionKeyFile", null)]);
        var defaultFile = Path.Combine(database.Directory, "keys", "key-encryption.key");
        if (TestDatabase.IsPostgres)
        {
            // Replicas would each make their own.
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(async () => await app.InitializeAsync());
            Assert.Contains("set DataProtection:KeyEncryptionKey (the same on every replica", refused.Message, StringComparison.Ordinal);
            Assert.False(File.Exists(defaultFile));
        }
        else
        {
            await app.InitializeAsync();
            await app.SignUpAsync();
            Assert.Equal(KeyEncryptionKey.Size, Convert.FromBase64String(File.ReadAllText(defaultFile).Trim()).Length);
            Assert.All(await StoredKeysAsync(app), key => Assert.DoesNotContain(key.Descendants(), IsMasterKey));
        }
    }

    [Fact]
    public async Task ADamagedStoredKey_StopsStartUp_NamingItsRow()
    {
        await using var database = TestDatabase.Create();
        Guid row;
        await using (var first = new AnotherProcess(database))
        {
            await first.InitializeAsync();
            await first.SignUpAsync();
            row = await first.InScopeAsync(null, async services =>
            {
                var db = services.GetRequiredService<AppDbContext>();
                var stored = await db.DataProtectionKeys.OrderBy(k => k.Id).FirstAsync();
                var element = XElement.Parse(stored.Xml);
                var ciphertext = KeyEncryptionKey.EncryptedPartsOf(element).Single();
                var bytes = Convert.FromBase64String(ciphertext.Value);
                bytes[0] ^= 1; // one bit of the encrypted key, as a damaged disk or a tampered backup would
                ciphertext.Value = Convert.ToBase64String(bytes);
                stored.Xml = element.ToString(SaveOptions.DisableFormatting);
                await db.SaveChangesAsync();
                return stored.Id;
            });
        }

        await using var restarted = new AnotherProcess(database);
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(async () => await restarted.InitializeAsync());
        Assert.Contains($"row {row} of data_protection_keys does not decrypt", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AKeyAnEarlierVersionStoredInTheClear_IsEncryptedAtStart_AndStillReadsWhatItProtected()
    {
        await using var database = TestDatabase.Create();
        await using var first = new AnotherProcess(database);
        await first.InitializeAsync();

        // A key made by Data Protection with no encryptor, as this app stored them before.
        var legacy = new CapturingRepository();
        var services = new ServiceCollection();
        services.AddDataProtection().SetApplicationName("AgentMarket");
        services.Configure<KeyManagementOptions>(o => o.XmlRepository = legacy);
        string protectedBefore;
        await using (var provider = services.BuildServiceProvider())
        {
            protectedBefore = provider.GetDataProtector("key-ring-test").Protect("a secret from before");
        }
        var legacyKey = Assert.Single(legacy.Elements);
        Assert.Contains(legacyKey.Descendants(), IsMasterKey);
        await first.InScopeAsync(null, async services =>
        {
            var db = services.GetRequiredService<AppDbContext>();
            db.DataProtectionKeys.Add(new DataProtectionKey { FriendlyName = "legacy", Xml = legacyKey.ToString(SaveOptions.DisableFormatting) });
            return await db.SaveChangesAsync();
        });

        var keysBefore = await StoredKeysAsync(first);

        await using var restarted = new AnotherProcess(database);
        await restarted.InitializeAsync();

        var keysAfter = await StoredKeysAsync(restarted);
        var stored = Assert.Single(keysAfter, k => (string?)k.Attribute("id") == (string?)legacyKey.Attribute("id"));
        Assert.DoesNotContain(stored.Descendants(), IsMasterKey);
        Assert.Single(stored.Descendants(), e => e.Name.LocalName == "encryptedSecret");
        var protector = restarted.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("key-ring-test");
        Assert.Equal("a secret from before", protector.Unprotect(protectedBefore));

        // The old keys may sit in the clear in earlier backups, so what is protected from now on uses a new key.
        var made = Assert.Single(keysAfter, k => !keysBefore.Any(b => (string?)b.Attribute("id") == (string?)k.Attribute("id")));
        Assert.DoesNotContain(made.Descendants(), IsMasterKey);
        var newest = keysAfter.MaxBy(k => (DateTimeOffset)k.Element("activationDate")!)!;
        Assert.Equal((string?)made.Attribute("id"), (string?)newest.Attribute("id"));
    }

    [Fact]
    public async Task RotatingTheKeyEncryptionKey_EncryptsTheKeyRingAgain_AndSessionsAndSecretsCarryOver()
    {
        await using var database = TestDatabase.Create();
        var (oldKey, newKey) = (Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        KeyValuePair<string, string?> Current(string key) => new("DataProtection:KeyEncryptionKey", key);
        await using var before = new AnotherProcess(database, [Current(oldKey)]);
        await before.InitializeAsync();
        var user = await before.SignUpAsync();
        var cookie = await SessionCookieAsync(before, user);
        var secret = before.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("key-ring-test").Protect("a secret from before");
        var keysBefore = await StoredKeysAsync(before);
        var oldId = KeyEncryptionKey.KeyIdsIn(keysBefore[0]).First();

        // The new key, with the old one as previous: every stored key is encrypted again with the new one.
        await using (var rotating = new AnotherProcess(database, [Current(newKey), new("DataProtection:PreviousKeyEncryptionKeys:0", oldKey)]))
        {
            await rotating.InitializeAsync();
            var rotated = await StoredKeysAsync(rotating);
            var newId = rotating.Services.GetRequiredService<KeyEncryptionKey>().Id;
            Assert.NotEqual(oldId, newId);
            Assert.All(rotated.SelectMany(KeyEncryptionKey.KeyIdsIn), id => Assert.Equal(newId, id));
            // What the old key could read is no longer what protects new secrets and cookies.
            var made = Assert.Single(rotated, k => !keysBefore.Any(b => (string?)b.Attribute("id") == (string?)k.Attribute("id")));
            Assert.Equal((string?)made.Attribute("id"), (string?)rotated.MaxBy(k => (DateTimeOffset)k.Element("activationDate")!)!.Attribute("id"));
        }

        // Once rotated, the old key is no longer needed, and no longer enough.
        await using var after = new AnotherProcess(database, [Current(newKey)]);
        await after.InitializeAsync();
        Assert.Equal(user.Email, (await MeAsync(after, cookie)).GetProperty("user").GetProperty("email").GetString());
        Assert.Equal("a secret from before", after.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("key-ring-test").Unprotect(secret));
        await using var stale = new AnotherProcess(database, [Current(oldKey)]);
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(async () => await stale.InitializeAsync());
        Assert.Contains($"but this process has key {oldId}", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMalformedPreviousKey_StopsStartUp_NamingTheSetting()
    {
        await using var database = TestDatabase.Create();
        await using var app = new AnotherProcess(database, [new("DataProtection:PreviousKeyEncryptionKeys:0", "c2hvcnQ=")]);
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(async () => await app.InitializeAsync());
        Assert.Contains("DataProtection:PreviousKeyEncryptionKeys:0 is 5 bytes; it must be 32", refused.Message, StringComparison.Ordinal);
    }

    static async Task<System.Text.Json.JsonElement> MeAsync(AgentMarketApp app, string cookie)
    {
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/me");
        request.Headers.Add("Cookie", cookie);
        return await Http.ReadJsonAsync(await client.SendAsync(request));
    }

    /// <summary>The element that holds a key's secret (<c>&lt;masterKey&gt;&lt;value&gt;base64&lt;/value&gt;</c>) when stored in the clear.</summary>
    static bool IsMasterKey(XElement element) => element.Name.LocalName == "masterKey";

    static Task<List<XElement>> StoredKeysAsync(AgentMarketApp app) =>
        app.InScopeAsync(null, async services =>
        {
            var xml = await services.GetRequiredService<AppDbContext>().DataProtectionKeys.AsNoTracking().OrderBy(k => k.Id).Select(k => k.Xml).ToListAsync();
            return xml.Select(XElement.Parse).ToList();
        });

    /// <summary>Signs in without a cookie jar and returns the cookies the response set, as a <c>Cookie</c> header.</summary>
    static async Task<string> SessionCookieAsync(AgentMarketApp app, TestUser user)
    {
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });
        var response = await client.PostAsJsonAsync("/api/auth/signin", new { email = user.Email, password = user.Password });
        await Http.AssertStatusAsync(response, HttpStatusCode.OK);
        return string.Join("; ", response.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]));
    }

    sealed class CapturingRepository : IXmlRepository
    {
        public List<XElement> Elements { get; } = [];

        public IReadOnlyCollection<XElement> GetAllElements() => Elements;

        public void StoreElement(XElement element, string friendlyName) => Elements.Add(element);
    }
}
