using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace FastChat.Transport.Tests;

// Metrics are process-wide: these tests run alone so that other tests' connections do not blur the counts.
[CollectionDefinition(nameof(MetricsAndLoggingTests), DisableParallelization = true)]
public sealed class MetricsCollection
{
}

[Collection(nameof(MetricsAndLoggingTests))]
public sealed class MetricsAndLoggingTests
{
    /// <summary>Guards the "FastChat.Transport" meter: connections opened/active/closed/rejected, bytes and frames are reported.</summary>
    [Fact]
    public async Task Meter_FramedEcho_ReportsConnectionsBytesAndFrames()
    {
        var totals = new ConcurrentDictionary<string, long>();
        var closedReasons = new ConcurrentDictionary<string, long>();
        long activeUp = 0, activeDown = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, meterListener) =>
        {
            if (instrument.Meter.Name == "FastChat.Transport")
            {
                meterListener.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            totals.AddOrUpdate(instrument.Name, value, (_, total) => total + value);
            if (instrument.Name == "fastchat.transport.connections.active")
            {
                Interlocked.Add(ref value > 0 ? ref activeUp : ref activeDown, value);
            }

            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "fastchat.close_reason")
                {
                    closedReasons.AddOrUpdate((string)tag.Value!, 1, (_, n) => n + 1);
                }
            }
        });
        listener.Start();

        await using (FastChatListener server = FastChatListener.Bind(Loopback.ListenerOptions(o => o.MaxConnections = 1)))
        {
            using var stop = new CancellationTokenSource();
            Task serving = FramedServer.RunAsync(server, EchoFrameHandler.Instance, stop.Token);
            await using (var client = new FramedConnection(await FastChatConnector.ConnectAsync(server.EndPoint).WithTimeout()))
            {
                var handler = new CollectingHandler(10);
                Task run = client.RunAsync(handler);
                for (int i = 0; i < 10; i++)
                {
                    Assert.True(client.TryWriteFrame(TestData.Pattern(100)));
                }

                Assert.True(client.TryFlush());
                await handler.Completed.WithTimeout();

                // Over the limit of one: closed on arrival and counted as rejected.
                using (System.Net.Sockets.Socket extra = await Loopback.ConnectRawAsync(server.EndPoint))
                {
                    await Loopback.ReadToEndAsync(extra);
                }

                await client.CloseAsync().WithTimeout();
                await run.WithTimeout();
            }

            await stop.CancelAsync();
            await serving.WithTimeout();
        }

        listener.RecordObservableInstruments();
        Assert.True(totals.GetValueOrDefault("fastchat.transport.connections.opened") >= 2);
        Assert.True(totals.GetValueOrDefault("fastchat.transport.connections.rejected") >= 1);
        Assert.True(Interlocked.Read(ref activeUp) >= 2);
        Assert.True(Interlocked.Read(ref activeDown) <= -2);
        Assert.True(totals.GetValueOrDefault("fastchat.transport.bytes.sent") >= 2 * 10 * 104);
        Assert.True(totals.GetValueOrDefault("fastchat.transport.bytes.received") >= 2 * 10 * 104);
        Assert.True(totals.GetValueOrDefault("fastchat.transport.frames.sent") >= 20);
        Assert.True(totals.GetValueOrDefault("fastchat.transport.frames.received") >= 20);
        Assert.True(closedReasons.GetValueOrDefault(nameof(CloseReason.LocalClose)) + closedReasons.GetValueOrDefault(nameof(CloseReason.RemoteClose)) >= 2);
    }

    /// <summary>Guards the log contract: accept and close are logged with fixed event ids, the close with its reason.</summary>
    [Fact]
    public async Task Logging_ConnectionLifecycle_LogsAcceptedAndClosedWithReason()
    {
        using var loggerFactory = new CapturingLoggerFactory();
        await using (LoopbackPair pair = await LoopbackPair.CreateAsync(o => o.LoggerFactory = loggerFactory))
        {
            pair.Server.Abort(CloseReason.ProtocolViolation);
            await ConnectionTests.WaitCancelledAsync(pair.Server.ConnectionClosed);
        }

        List<(EventId Id, LogLevel Level, string Message)> entries = loggerFactory.Entries;
        Assert.Contains(entries, e => e.Id.Id == 15 && e.Level == LogLevel.Information);
        Assert.Contains(entries, e => e.Id.Id == 1 && e.Id.Name == "ConnectionAccepted");
        Assert.Contains(entries, e => e.Id.Id == 3 && e.Level == LogLevel.Debug && e.Message.EndsWith("closed: ProtocolViolation.", StringComparison.Ordinal));
        Assert.DoesNotContain(entries, e => e.Level >= LogLevel.Error);
    }

    private sealed class CapturingLoggerFactory : ILoggerFactory, ILogger
    {
        private readonly List<(EventId, LogLevel, string)> _entries = [];

        public List<(EventId Id, LogLevel Level, string Message)> Entries
        {
            get
            {
                lock (_entries)
                {
                    return [.. _entries];
                }
            }
        }

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public ILogger CreateLogger(string categoryName) => this;

        public void Dispose()
        {
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_entries)
            {
                _entries.Add((eventId, logLevel, formatter(state, exception)));
            }
        }
    }
}
