using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using AgentMarket.Platform.Data;
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
    static readonly XNamespace Namespace = "urn:agentmarket:key-ring";
    static readonly XName EncryptedKeyName = Namespace + "encryptedKey";
    // Binds each ciphertext to its purpose: a blob encrypted with this key for anything else does not decrypt as a key.
    static readonly byte[] AssociatedData = "AgentMarket Data Protection key ring v1"u8.ToArray();

    readonly byte[] _key;

    KeyEncryptionKey(byte[] key)
    {
        _key = key;
        // The id names the key in what it encrypted, so a process given another key can say so instead of failing to
        // decrypt; an HMAC of a constant reveals nothing of the key.
        Id = Convert.ToHexStringLower(HMACSHA256.HashData(key, "key-encryption key id"u8)[..8]);
    }

    public string Id { get; }

    public static KeyEncryptionKey Load(KeyRingEncryptionOptions options, StorageOptions storage, ILogger logger)
    {
        if (options.KeyEncryptionKey is { Length: > 0 } configured)
        {
            return new KeyEncryptionKey(Parse(configured, "DataProtection:KeyEncryptionKey"));
        }
        var path = Path.GetFullPath(options.KeyEncryptionKeyFile is { Length: > 0 } file
            ? file
            : Path.Combine(storage.DataDirectory, "keys", "key-encryption.key"));
        if (!File.Exists(path))
        {
            TryCreate(path, logger);
        }
        return new KeyEncryptionKey(Parse(File.ReadAllText(path).Trim(), path));
    }

    static void TryCreate(string path, ILogger logger)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var key = RandomNumberGenerator.GetBytes(Size);
        try
        {
            // CreateNew: two processes starting on one data directory keep whichever wrote first. Only the owner may read it.
            var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            using var stream = new FileStream(path, create);
            stream.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(key) + "\n"));
            logger.LogInformation("Created the key-encryption key {Path}. Keep a copy apart from the database's backups: without it the stored secrets cannot be read.", path);
        }
        catch (IOException) when (File.Exists(path))
        {
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
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
        var tag = new byte[AesGcm.TagByteSizes.MaxSize];
        try
        {
            using var aes = new AesGcm(_key, tag.Length);
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

    public XElement Decrypt(XElement encryptedElement)
    {
        var keyId = (string?)encryptedElement.Attribute("kek");
        if (keyId != Id)
        {
            throw new CryptographicException(MismatchMessage(keyId));
        }
        var nonce = Convert.FromBase64String((string)encryptedElement.Attribute("nonce")!);
        var tag = Convert.FromBase64String((string)encryptedElement.Attribute("tag")!);
        var ciphertext = Convert.FromBase64String(encryptedElement.Value);
        var plaintext = new byte[ciphertext.Length];
        try
        {
            using var aes = new AesGcm(_key, tag.Length);
            aes.Decrypt(nonce, ciphertext, tag, plaintext, AssociatedData);
            return XElement.Parse(Encoding.UTF8.GetString(plaintext));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>The ids of the keys that encrypted the elements of a stored key ring entry.</summary>
    public static IEnumerable<string?> KeyIdsIn(XElement storedKey) =>
        storedKey.Descendants(EncryptedKeyName).Select(e => (string?)e.Attribute("kek"));

    public string MismatchMessage(string? storedKeyId) =>
        $"The Data Protection key ring was encrypted with key-encryption key {storedKeyId ?? "(none)"}, but this process has key {Id}. " +
        "Give every process the key that encrypted it (DataProtection:KeyEncryptionKey, or the file DataProtection:KeyEncryptionKeyFile names); " +
        "without it the secrets stored in the database cannot be read.";
}

sealed class KeyRingEncryptor(KeyEncryptionKey key) : IXmlEncryptor
{
    public EncryptedXmlInfo Encrypt(XElement plaintextElement) => new(key.Encrypt(plaintextElement), typeof(KeyRingDecryptor));
}

/// <summary>Created by Data Protection from the type name stored with each encrypted key, with the app's services.</summary>
sealed class KeyRingDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement) => services.GetRequiredService<KeyEncryptionKey>().Decrypt(encryptedElement);
}

/// <summary>
/// At start-up, before any request: refuses to start with a key-encryption key other than the one the stored key ring
/// was encrypted with (rather than quietly making a new key ring that cannot read the stored secrets or the cookies of
/// other replicas), and encrypts the keys an earlier version stored in the clear.
/// </summary>
sealed class KeyRingEncryptionStartup(IServiceScopeFactory scopes, KeyEncryptionKey key, ILogger<KeyRingEncryptionStartup> logger) : IHostedService
{
    static readonly XName RequiresEncryption = XNamespace.Get("http://schemas.asp.net/2015/03/dataProtection") + "requiresEncryption";
    static readonly XName EncryptedSecret = XNamespace.Get("http://schemas.asp.net/2015/03/dataProtection") + "encryptedSecret";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var encrypted = 0;
        foreach (var stored in await db.DataProtectionKeys.ToListAsync(cancellationToken))
        {
            var element = XElement.Parse(stored.Xml);
            if (KeyEncryptionKey.KeyIdsIn(element).FirstOrDefault(id => id != key.Id) is { } otherKey)
            {
                throw new InvalidOperationException(key.MismatchMessage(otherKey));
            }
            if (EncryptInPlace(element))
            {
                stored.Xml = element.ToString(SaveOptions.DisableFormatting);
                encrypted++;
            }
        }
        await db.SaveChangesAsync(cancellationToken);
        if (encrypted > 0)
        {
            logger.LogInformation("Encrypted {Count} Data Protection keys an earlier version stored in the clear.", encrypted);
        }
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

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
