using Microsoft.Extensions.Logging;

namespace AgentMarket.Tests.Infrastructure;

/// <summary>Sends the app's warnings and errors where a failing test's reader can see the server's side.</summary>
public sealed class TestOutputLoggerProvider : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new TestOutputLogger(categoryName);

    public void Dispose()
    {
    }

    static readonly object FileLock = new();

    sealed class TestOutputLogger(string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }
            var line = $"[{logLevel}] {category}: {formatter(state, exception)}{(exception is null ? "" : "\n" + exception)}";
            // The in-memory server does not flow the test's context, so the line also goes to the test process's stderr,
            // which the runner shows for failing runs; AGENTMARKET_TEST_LOG names a file to collect everything.
            Console.Error.WriteLine(line);
            if (Environment.GetEnvironmentVariable("AGENTMARKET_TEST_LOG") is { Length: > 0 } file)
            {
                lock (FileLock)
                {
                    File.AppendAllText(file, line + "\n");
                }
            }
        }
    }
}
