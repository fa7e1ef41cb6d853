using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using AgentMarket.Platform.Data;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Platform.Security;

/// <summary>Bound from the <c>DataProtection</c> section.</summary>
public sealed class KeyRingEncryptionOptions
{
    /// <summary>
    /// The key-encryption key: 32 random bytes in base64 (<c>openssl rand -base64 32</c>). Every replica needs the same
    /// one. When unset, it is read from <see cref="KeyEncryptionKeyFile"/>, which is created on first start.
    /// </summary>
    public string? KeyEncryptionKey { get; set; }

    /// <summary>Where the key-encryption key is kept when it is not configured; default <c>{Storage:DataDirectory}/keys/key-encryption.key</c>.</summary>
    public string? KeyEncryptionKeyFile { get; set; }

    /// <summary>
    /// Earlier key-encryption keys (base64), to rotate: stored keys they encrypted are read with them and encrypted again
    /// with the current key at start (README, "Rotating the key-encryption key"). Remove them once every process has started so.
    /// </summary>
    public List<string> PreviousKeyEncryptionKeys { get; set; } = [];
}

/// <summary>
/// The key that encrypts the Data Protection key ring before it is stored in the database. The key ring protects the
/// secrets kept there (buyers' own model keys, identity providers' client secrets, webhook secrets) and signs the
/// cookies, so stored in the clear beside them it would make a copy of the database enough to read every secret and
/// forge any session. With this key outside the database (configuration, or a file only the process can read), a
/// database dump or backup alone reveals neither. AES-256-GCM, a fresh nonce per key.
/// </summary>
public sealed class KeyEncryptionKey
{
    public const int Size = 32;
    const int TagSize = 16;
    static readonly XNamespace Namespace = "urn:agentmarket:key-ring";
    static readonly XName EncryptedKeyName = Namespace + "encryptedKey";
    // Binds each ciphertext to its purpose: a blob encrypted with this key for anything else does not decrypt as a key.
    static readonly byte[] AssociatedData = "AgentMarket Data Protection key ring v1"u8.ToArray();

    readonly byte[] _key;

    KeyEncryptionKey(byte[] key, IReadOnlyList<KeyEncryptionKey>? previous = null)
    {
        _key = key;
        Previous = previous ?? [];
        // The id names the key in what it encrypted, so a process given another key can say so instead of failing to
        // decrypt; an HMAC of a constant reveals nothing of the key.
        Id = Convert.ToHexStringLower(HMACSHA256.HashData(key, "key-encryption key id"u8)[..8]);
    }

    public string Id { get; }

    /// <summary>
    /// A key for <paramref name="purpose"/> alone, derived from this one: for keyed hashes of personal data (ADR-161),
    /// which a copy of the database then cannot reverse by hashing every candidate. Rotating this key changes it.
    /// </summary>
    public byte[] Derive(string purpose) => HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(purpose));

    /// <summary>Earlier keys this one replaces: what they encrypted is still read, and encrypted again with this one at start.</summary>
    public IReadOnlyList<KeyEncryptionKey> Previous { get; }

    public static KeyEncryptionKey Load(KeyRingEncryptionOptions options, StorageOptions storage, DatabaseProvider provider, ILogger logger)
    {
        var current = LoadCurrent(options, storage, provider, logger);
        var previous = options.PreviousKeyEncryptionKeys
            .Select((base64, i) => new KeyEncryptionKey(Parse(base64, $"DataProtection:PreviousKeyEncryptionKeys:{i}")))
            .Where(key => key.Id != current.Id).DistinctBy(key => key.Id).ToList();
        return previous.Count == 0 ? current : new KeyEncryptionKey(current._key, previous);
    }

    static KeyEncryptionKey LoadCurrent(KeyRingEncryptionOptions options, StorageOptions storage, DatabaseProvider provider, ILogger logger)
    {
        if (options.KeyEncryptionKey is { Length: > 0 } configured)
        {
            return new KeyEncryptionKey(Parse(configured, "DataProtection:KeyEncryptionKey"));
        }
        if (options.KeyEncryptionKeyFile is not { Length: > 0 } && provider == DatabaseProvider.Postgres)
        {
            // PostgreSQL is how several replicas share one database; a key generated into each one's data directory
            // would differ, and the first to start would lock the others (and, once its directory is gone, itself) out.
            throw new InvalidOperationException(
                "With Database:Provider Postgres, set DataProtection:KeyEncryptionKey (the same on every replica; `openssl rand -base64 32`) " +
                "or DataProtection:KeyEncryptionKeyFile (a file every replica reads). It encrypts the key ring stored in the database.");
        }
        var path = Path.GetFullPath(options.KeyEncryptionKeyFile is { Length: > 0 } file
            ? file
            : Path.Combine(storage.DataDirectory, "keys", "key-encryption.key"));
        try
        {
            if (!File.Exists(path))
            {
                TryCreate(path, logger);
            }
            return new KeyEncryptionKey(Parse(File.ReadAllText(path).Trim(), path));
        }
        catch (Exception failure) when (failure is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"The key-encryption key file {path} cannot be read or created ({failure.Message}). Make its folder writable, " +
                "point DataProtection:KeyEncryptionKeyFile elsewhere, or set DataProtection:KeyEncryptionKey.", failure);
        }
    }

    /// <summary>
    /// Writes a new key to a file of its own, flushed to disk, then renames it into place: a reader never sees a partly
    /// written key, and of two processes starting on one data directory the first rename wins and both use its key.
    /// </summary>
    static void TryCreate(string path, ILogger logger)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        var key = RandomNumberGenerator.GetBytes(Size);
        try
        {
            var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // only the owner may read it
            }
            using (var stream = new FileStream(temporary, create))
            {
                stream.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(key) + "\n"));
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: false);
            logger.LogInformation("Created the key-encryption key {Path}. Keep a copy apart from the database's backups: without it the stored secrets cannot be read.", path);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it first: use theirs.
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
            File.Delete(temporary);
        }
    }

    static byte[] Parse(string base64, string source)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"The key-encryption key in {source} is not base64; generate one with `openssl rand -base64 32`.");
        }
        return key.Length == Size
            ? key
            : throw new InvalidOperationException($"The key-encryption key in {source} is {key.Length} bytes; it must be {Size} (`openssl rand -base64 32`).");
    }

    public XElement Encrypt(XElement plaintextElement)
    {
        var plaintext = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var nonce = RandomNumberGenerator.GetBytes(AesGcm.NonceByteSizes.MaxSize);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[TagSize];
        try
        {
            using var aes = new AesGcm(_key, TagSize);
            aes.Encrypt(nonce, plaintext, ciphertext, tag, AssociatedData);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
        return new XElement(EncryptedKeyName,
            new XAttribute("kek", Id),
            new XAttribute("nonce", Convert.ToBase64String(nonce)),
            new XAttribute("tag", Convert.ToBase64String(tag)),
            Convert.ToBase64String(ciphertext));
    }

    /// <summary>Decrypts with whichever of this key and <see cref="Previous"/> encrypted the element.</summary>
    public XElement Decrypt(XElement encryptedElement)
    {
        var keyId = (string?)encryptedElement.Attribute("kek");
        return (KeyFor(keyId) ?? throw new CryptographicException(MismatchMessage(keyId))).DecryptOwn(encryptedElement);
    }

    /// <summary>Whether this key or one of <see cref="Previous"/> has the id <paramref name="keyId"/>.</summary>
    public bool Reads(string? keyId) => KeyFor(keyId) is not null;

    KeyEncryptionKey? KeyFor(string? keyId) => keyId == Id ? this : Previous.FirstOrDefault(k => k.Id == keyId);

    XElement DecryptOwn(XElement encryptedElement)
    {
        byte[] nonce, tag, ciphertext;
        try
        {
            nonce = Convert.FromBase64String((string?)encryptedElement.Attribute("nonce") ?? "");
            tag = Convert.FromBase64String((string?)encryptedElement.Attribute("tag") ?? "");
            ciphertext = Convert.FromBase64String(encryptedElement.Value);
        }
        catch (FormatException)
        {
            throw new CryptographicException("An encrypted Data Protection key is damaged: its nonce, tag or ciphertext is not base64.");
        }
        if (nonce.Length != AesGcm.NonceByteSizes.MaxSize || tag.Length != TagSize)
        {
            throw new CryptographicException("An encrypted Data Protection key is damaged: its nonce or tag has the wrong length.");
        }
        var plaintext = new byte[ciphertext.Length];
        try
        {
            using var aes = new AesGcm(_key, TagSize);
            aes.Decrypt(nonce, ciphertext, tag, plaintext, AssociatedData);
            return XElement.Parse(Encoding.UTF8.GetString(plaintext));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>The encrypted parts of a stored key ring entry.</summary>
    public static IEnumerable<XElement> EncryptedPartsOf(XElement storedKey) => storedKey.Descendants(EncryptedKeyName);

    /// <summary>The ids of the keys that encrypted the elements of a stored key ring entry.</summary>
    public static IEnumerable<string?> KeyIdsIn(XElement storedKey) => EncryptedPartsOf(storedKey).Select(e => (string?)e.Attribute("kek"));

    public string MismatchMessage(string? storedKeyId) =>
        $"The Data Protection key ring was encrypted with key-encryption key {storedKeyId ?? "(none)"}, but this process has key {Id}" +
        (Previous.Count == 0 ? ". " : $" and previous keys {string.Join(", ", Previous.Select(k => k.Id))}. ") +
        "Give every process the key that encrypted it (DataProtection:KeyEncryptionKey, or the file DataProtection:KeyEncryptionKeyFile names; " +
        "when rotating, the old one in DataProtection:PreviousKeyEncryptionKeys); without it the secrets stored in the database cannot be read.";
}

sealed class KeyRingEncryptor(KeyEncryptionKey key) : IXmlEncryptor
{
    public EncryptedXmlInfo Encrypt(XElement plaintextElement) => new(key.Encrypt(plaintextElement), typeof(KeyRingDecryptor));
}

/// <summary>
/// Created by Data Protection from the type name stored with each encrypted key, with the app's services. That name is
/// in every stored key: renaming or moving this class makes the key ring unreadable.
/// </summary>
sealed class KeyRingDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement) => services.GetRequiredService<KeyEncryptionKey>().Decrypt(encryptedElement);
}

/// <summary>
/// At start-up, before any request and before Data Protection loads the key ring: refuses to start when a stored key
/// cannot be decrypted with this process's key-encryption keys (another key, or a damaged row), rather than let the
/// framework quietly make a new key ring that cannot read the stored secrets or other replicas' cookies; encrypts the
/// keys an earlier version stored in the clear, and encrypts again with the current key those a previous key-encryption
/// key encrypted (a rotation). Either way it then makes a new default key: the old ones may sit in the clear in earlier
/// backups, or be readable with the key being retired. On PostgreSQL, replicas take turns (an advisory lock), so a
/// second one sees what the first did.
/// </summary>
sealed class KeyRingEncryptionStartup(
    IServiceScopeFactory scopes, KeyEncryptionKey key, IKeyManager keys, IOptions<KeyManagementOptions> keyOptions, TimeProvider clock,
    ILogger<KeyRingEncryptionStartup> logger) : IHostedService
{
    const long PostgresLockKey = 7_302_202_612;
    static readonly XName RequiresEncryption = XNamespace.Get("http://schemas.asp.net/2015/03/dataProtection") + "requiresEncryption";
    static readonly XName EncryptedSecret = XNamespace.Get("http://schemas.asp.net/2015/03/dataProtection") + "encryptedSecret";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        int encrypted, reencrypted;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            if (db.Database.IsNpgsql())
            {
                await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_xact_lock({PostgresLockKey})", cancellationToken);
            }
            (encrypted, reencrypted) = (0, 0);
            foreach (var stored in await db.DataProtectionKeys.ToListAsync(cancellationToken))
            {
                var element = Readable(stored);
                var inTheClear = EncryptInPlace(element);
                var underPreviousKey = EncryptAgainInPlace(element);
                if (inTheClear || underPreviousKey)
                {
                    stored.Xml = element.ToString(SaveOptions.DisableFormatting);
                    encrypted += inTheClear ? 1 : 0;
                    reencrypted += underPreviousKey ? 1 : 0;
                }
            }
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        if (encrypted > 0 || reencrypted > 0)
        {
            var now = clock.GetUtcNow();
            keys.CreateNewKey(now, now + keyOptions.Value.NewKeyLifetime);
            logger.LogInformation(
                "Encrypted {Count} Data Protection keys an earlier version stored in the clear and {Rotated} a previous key-encryption key encrypted with key-encryption key {Key}, and made a new default key.",
                encrypted, reencrypted, key.Id);
        }
    }

    /// <summary>The stored key, checked: valid XML, and every encrypted part decrypts with this process's key.</summary>
    XElement Readable(DataProtectionKey stored)
    {
        XElement element;
        try
        {
            element = XElement.Parse(stored.Xml);
        }
        catch (System.Xml.XmlException)
        {
            throw new InvalidOperationException($"The Data Protection key in row {stored.Id} of data_protection_keys is not valid XML; restore it from a backup.");
        }
        foreach (var part in KeyEncryptionKey.EncryptedPartsOf(element))
        {
            var keyId = (string?)part.Attribute("kek");
            if (!key.Reads(keyId))
            {
                throw new InvalidOperationException(key.MismatchMessage(keyId));
            }
            try
            {
                key.Decrypt(part);
            }
            catch (CryptographicException damaged)
            {
                throw new InvalidOperationException(
                    $"The Data Protection key in row {stored.Id} of data_protection_keys does not decrypt with this key-encryption key: it is damaged ({damaged.Message}). Restore it from a backup.");
            }
        }
        return element;
    }

    /// <summary>Replaces each element Data Protection marked as secret as its own key manager does when it stores a new key.</summary>
    bool EncryptInPlace(XElement storedKey)
    {
        var secrets = storedKey.DescendantsAndSelf().Where(e => (string?)e.Attribute(RequiresEncryption) == "true").ToList();
        foreach (var secret in secrets)
        {
            secret.ReplaceWith(new XElement(EncryptedSecret,
                new XAttribute("decryptorType", typeof(KeyRingDecryptor).AssemblyQualifiedName!),
                key.Encrypt(new XElement(secret))));
        }
        return secrets.Count > 0;
    }

    /// <summary>Encrypts again with the current key the parts a previous key-encryption key encrypted.</summary>
    bool EncryptAgainInPlace(XElement storedKey)
    {
        var parts = KeyEncryptionKey.EncryptedPartsOf(storedKey).Where(part => (string?)part.Attribute("kek") != key.Id).ToList();
        foreach (var part in parts)
        {
            part.ReplaceWith(key.Encrypt(key.Decrypt(part)));
        }
        return parts.Count > 0;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
