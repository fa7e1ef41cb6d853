using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using MimeKit;

namespace AgentMarket.Tests.Infrastructure;

/// <summary>
/// A small SMTP server on loopback (RFC 5321 commands a client sends, AUTH PLAIN and LOGIN, no TLS) that keeps what it
/// receives and can be told to refuse: a recipient for good (550), or the next messages for now (451).
/// </summary>
public sealed class FakeSmtpServer : IAsyncDisposable
{
    readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    readonly CancellationTokenSource _stop = new();
    readonly Task _accepting;
    readonly ConcurrentQueue<Received> _received = new();
    readonly ConcurrentDictionary<string, string> _refusedRecipients = new(StringComparer.OrdinalIgnoreCase);
    int _messagesToDefer;

    public sealed record Received(string Username, string Password, string MailFrom, IReadOnlyList<string> Recipients, MimeMessage Message);

    public FakeSmtpServer()
    {
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public const string Username = "mailer";
    public const string Password = "smtp-password-1";

    /// <summary>The app's settings to send through this server, looking for mail every second.</summary>
    public IEnumerable<KeyValuePair<string, string?>> AppSettings() =>
    [
        new("Mail:SmtpHost", "127.0.0.1"),
        new("Mail:SmtpPort", Port.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Mail:SmtpSecurity", "None"),
        new("Mail:SmtpUsername", Username),
        new("Mail:SmtpPassword", Password),
        new("Mail:From", "AgentMarket <no-reply@agentmarket.test>"),
        new("Mail:PollIntervalSeconds", "1"),
    ];

    /// <summary>The first message to <paramref name="recipient"/> (with <paramref name="subject"/>, if given), waiting up to 20 s for it.</summary>
    public async Task<Received> ReceivedByAsync(string recipient, string? subject = null)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (Messages.FirstOrDefault(m => m.Recipients.Contains(recipient) && (subject is null || m.Message.Subject == subject)) is { } received)
            {
                return received;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException(subject is null ? $"No email reached {recipient}." : $"No \"{subject}\" email reached {recipient}.");
    }

    public IReadOnlyList<Received> Messages => [.. _received];

    /// <summary>Refuses <paramref name="address"/> as a recipient, by default with 550 (mailbox unavailable).</summary>
    public void RefuseRecipient(string address, string reply = "550 5.1.1 mailbox unavailable") => _refusedRecipients[address] = reply;

    public void AcceptRecipient(string address) => _refusedRecipients.TryRemove(address, out _);

    /// <summary>Answers every sign-in with 535 (credentials invalid) while set.</summary>
    public bool RefuseSignIn { get; set; }

    /// <summary>
    /// Holds the answer to <paramref name="address"/>'s RCPT until the returned gate is opened (with the reply to give),
    /// so a test can act while a send is under way; <see cref="Held"/> completes when the send reaches it.
    /// </summary>
    public TaskCompletionSource<string> HoldRecipient(string address)
    {
        var gate = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        _held[address] = gate;
        Held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return gate;
    }

    public TaskCompletionSource Held { get; private set; } = new();

    readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource<string>> _held = new(StringComparer.Ordinal);

    /// <summary>Answers the next <paramref name="count"/> messages' data with 451 (try again later).</summary>
    public void DeferNextMessages(int count) => Interlocked.Exchange(ref _messagesToDefer, count);

    async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        var reader = new StreamReader(stream, Encoding.Latin1);
        var writer = new StreamWriter(stream, Encoding.Latin1) { NewLine = "\r\n", AutoFlush = true };
        string username = "", password = "", mailFrom = "";
        var recipients = new List<string>();
        try
        {
            await writer.WriteLineAsync("220 fake-smtp ESMTP");
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                var verb = line.Split(' ', 2)[0].ToUpperInvariant();
                var argument = line.Length > verb.Length ? line[(verb.Length + 1)..] : "";
                switch (verb)
                {
                    case "EHLO":
                        await writer.WriteLineAsync("250-fake-smtp");
                        await writer.WriteLineAsync("250-AUTH PLAIN LOGIN");
                        await writer.WriteLineAsync("250 8BITMIME");
                        break;
                    case "HELO":
                    case "NOOP":
                    case "RSET":
                        recipients.Clear();
                        await writer.WriteLineAsync("250 ok");
                        break;
                    case "AUTH":
                        (username, password) = await AuthenticateAsync(argument, reader, writer);
                        await writer.WriteLineAsync(RefuseSignIn ? "535 5.7.8 authentication credentials invalid" : "235 2.7.0 authenticated");
                        break;
                    case "MAIL":
                        mailFrom = Address(argument);
                        recipients.Clear();
                        await writer.WriteLineAsync("250 2.1.0 ok");
                        break;
                    case "RCPT":
                        var recipient = Address(argument);
                        if (_held.TryRemove(recipient, out var gate))
                        {
                            Held.TrySetResult();
                            await writer.WriteLineAsync(await gate.Task);
                            break;
                        }
                        if (_refusedRecipients.TryGetValue(recipient, out var refusal))
                        {
                            await writer.WriteLineAsync(refusal);
                            break;
                        }
                        recipients.Add(recipient);
                        await writer.WriteLineAsync("250 2.1.5 ok");
                        break;
                    case "DATA":
                        await writer.WriteLineAsync("354 end with <CRLF>.<CRLF>");
                        var data = new StringBuilder();
                        while (await reader.ReadLineAsync(_stop.Token) is { } dataLine && dataLine != ".")
                        {
                            data.Append(dataLine.StartsWith('.') ? dataLine[1..] : dataLine).Append("\r\n");
                        }
                        if (Interlocked.Decrement(ref _messagesToDefer) >= 0)
                        {
                            await writer.WriteLineAsync("451 4.3.0 try again later");
                            break;
                        }
                        var message = MimeMessage.Load(new MemoryStream(Encoding.Latin1.GetBytes(data.ToString())));
                        _received.Enqueue(new Received(username, password, mailFrom, [.. recipients], message));
                        await writer.WriteLineAsync("250 2.0.0 queued");
                        break;
                    case "QUIT":
                        await writer.WriteLineAsync("221 bye");
                        return;
                    default:
                        await writer.WriteLineAsync("502 5.5.1 unrecognised command");
                        break;
                }
            }
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    static async Task<(string Username, string Password)> AuthenticateAsync(string argument, StreamReader reader, StreamWriter writer)
    {
        var parts = argument.Split(' ', 2);
        if (parts[0].Equals("PLAIN", StringComparison.OrdinalIgnoreCase))
        {
            var initial = parts.Length > 1 ? parts[1] : await Challenge("", reader, writer);
            var fields = Encoding.UTF8.GetString(Convert.FromBase64String(initial)).Split('\0');
            return (fields[1], fields[2]);
        }
        var username = parts.Length > 1 ? Decode(parts[1]) : Decode(await Challenge("VXNlcm5hbWU6", reader, writer));
        var password = Decode(await Challenge("UGFzc3dvcmQ6", reader, writer));
        return (username, password);
    }

    static async Task<string> Challenge(string prompt, StreamReader reader, StreamWriter writer)
    {
        await writer.WriteLineAsync($"334 {prompt}");
        return await reader.ReadLineAsync() ?? "";
    }

    static string Decode(string base64) => Encoding.UTF8.GetString(Convert.FromBase64String(base64));

    /// <summary>The address in <c>FROM:&lt;a@b&gt; SIZE=…</c> or <c>TO:&lt;a@b&gt;</c>.</summary>
    static string Address(string argument)
    {
        var start = argument.IndexOf('<');
        var end = argument.IndexOf('>', start + 1);
        return start >= 0 && end > start ? argument[(start + 1)..end] : argument;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
