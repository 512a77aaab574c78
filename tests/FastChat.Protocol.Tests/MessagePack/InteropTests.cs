using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using FastChat.Protocol.MessagePack;
using FastChat.Protocol.Messages;
using Xunit.Sdk;
using static FastChat.Protocol.Tests.MessagePack.MessagePackTestHelpers;

namespace FastChat.Protocol.Tests.MessagePack;

/// <summary>
/// Checks the codec against an independent implementation, @msgpack/msgpack (pinned in tests/interop/package.json
/// and package-lock.json), in both directions: C# encodes and Node decodes, Node encodes and C# decodes. The corpus
/// covers every format family and its size boundaries, the three timestamp forms and extension types; the same
/// case names and values live in tests/interop/msgpack-interop.mjs. Skipped, with the reason, when Node.js is not
/// on PATH.
/// </summary>
public class InteropTests
{
    private static readonly TimeSpan NodeTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan NpmTimeout = TimeSpan.FromMinutes(5);
    private static readonly SemaphoreSlim NodeModulesLock = new(1, 1);
    private static readonly JsonSerializerOptions Json = JsonSerializerOptions.Web;
    private static readonly InteropCase[] Corpus = BuildCorpus();

    [SkippableFact]
    public async Task CSharpEncoded_DecodedByNode_MatchesNodeExpectations()
    {
        string node = RequireNode();
        string directory = await EnsureNodeModulesAsync();

        var cases = new List<EncodedCase>();
        foreach (InteropCase c in Corpus)
        {
            cases.Add(new EncodedCase(c.Name, Convert.ToBase64String(Encode(c.Write))));
        }

        string output = await RunAsync(node, ["msgpack-interop.mjs", "decode"], directory, JsonSerializer.Serialize(new DecodeRequest(cases), Json), NodeTimeout);
        DecodeResponse response = JsonSerializer.Deserialize<DecodeResponse>(output, Json)!;

        Assert.Equal(cases.Select(c => c.Name), response.Results.Select(r => r.Name));
        string[] failures = response.Results.Where(r => !r.Ok).Select(r => $"{r.Name}: {r.Message}").ToArray();
        Assert.True(failures.Length == 0, "Node disagreed with the C# encoding:\n" + string.Join('\n', failures));
    }

    [SkippableFact]
    public async Task NodeEncoded_DecodedByCSharp_MatchesCSharpExpectations()
    {
        string node = RequireNode();
        string directory = await EnsureNodeModulesAsync();

        InteropCase[] cases = Corpus.Where(c => c.FromNode).ToArray();
        string output = await RunAsync(node, ["msgpack-interop.mjs", "encode"], directory, JsonSerializer.Serialize(new EncodeRequest(cases.Select(c => c.Name).ToArray()), Json), NodeTimeout);
        EncodeResponse response = JsonSerializer.Deserialize<EncodeResponse>(output, Json)!;
        Assert.Equal(cases.Select(c => c.Name), response.Cases.Select(c => c.Name));

        var failures = new List<string>();
        for (int i = 0; i < cases.Length; i++)
        {
            InteropCase expected = cases[i];
            byte[] bytes = Convert.FromBase64String(response.Cases[i].Base64);
            try
            {
                var reader = new MessagePackReader(bytes);
                expected.Verify(ref reader);
                Assert.True(reader.End, "bytes were left unread");
                if (expected.Canonical)
                {
                    // Both sides pick the smallest format: the encodings must agree byte for byte.
                    Assert.Equal(Hex(Encode(expected.Write)), Hex(bytes));
                }
            }
            catch (Exception ex) when (ex is XunitException or MessagePackSerializationException)
            {
                string shown = bytes.Length <= 32 ? Hex(bytes) : Hex(bytes.AsSpan(0, 32)) + "...";
                failures.Add($"{expected.Name} ({shown}): {ex.Message}");
            }
        }

        Assert.True(failures.Count == 0, "C# disagreed with the Node encoding:\n" + string.Join('\n', failures));
    }

    [Fact]
    public void Corpus_CoversEveryFormatFamily()
    {
        var codes = new HashSet<byte>();
        foreach (InteropCase c in Corpus)
        {
            byte[] bytes = Encode(c.Write);
            codes.Add(bytes[0]);
            if (bytes[0] is >= MessagePackCode.MinFixStr and <= MessagePackCode.MaxFixStr)
            {
                codes.Add(MessagePackCode.MinFixStr);
            }
        }

        byte[] required =
        [
            MessagePackCode.Nil, MessagePackCode.True, MessagePackCode.False, MessagePackCode.UInt8, MessagePackCode.UInt16,
            MessagePackCode.UInt32, MessagePackCode.UInt64, MessagePackCode.Int8, MessagePackCode.Int16, MessagePackCode.Int32,
            MessagePackCode.Int64, MessagePackCode.Float32, MessagePackCode.Float64, MessagePackCode.MinFixStr, MessagePackCode.Str8,
            MessagePackCode.Str16, MessagePackCode.Str32, MessagePackCode.Bin8, MessagePackCode.Bin16, MessagePackCode.Bin32,
            MessagePackCode.MinFixArray, MessagePackCode.Array16, MessagePackCode.Array32, MessagePackCode.MinFixMap,
            MessagePackCode.Map16, MessagePackCode.Map32, MessagePackCode.FixExt1, MessagePackCode.FixExt2, MessagePackCode.FixExt4,
            MessagePackCode.FixExt8, MessagePackCode.FixExt16, MessagePackCode.Ext8, MessagePackCode.Ext16, MessagePackCode.Ext32,
            0x00, 0x7f, 0xff, 0xe0,
        ];
        Assert.Empty(required.Where(code => !codes.Contains(code)).Select(code => $"0x{code:x2}"));
    }

    private static InteropCase[] BuildCorpus()
    {
        var corpus = new List<InteropCase>
        {
            new("nil", (ref MessagePackWriter w) => w.WriteNil(), (ref MessagePackReader r) => r.ReadNil()),
            new("true", (ref MessagePackWriter w) => w.Write(true), (ref MessagePackReader r) => Assert.True(r.ReadBoolean())),
            new("false", (ref MessagePackWriter w) => w.Write(false), (ref MessagePackReader r) => Assert.False(r.ReadBoolean())),
        };

        foreach (ulong value in new ulong[] { 0, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296 })
        {
            corpus.Add(new($"uint-{value}", (ref MessagePackWriter w) => w.Write(value), (ref MessagePackReader r) => Assert.Equal(value, r.ReadUInt64())));
        }

        corpus.Add(new("uint-int64-max", (ref MessagePackWriter w) => w.Write(long.MaxValue), (ref MessagePackReader r) => Assert.Equal(long.MaxValue, r.ReadInt64())));
        corpus.Add(new("uint-uint64-max", (ref MessagePackWriter w) => w.Write(ulong.MaxValue), (ref MessagePackReader r) => Assert.Equal(ulong.MaxValue, r.ReadUInt64())));

        foreach (long value in new long[] { -1, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649 })
        {
            corpus.Add(new($"int-minus-{-value}", (ref MessagePackWriter w) => w.Write(value), (ref MessagePackReader r) => Assert.Equal(value, r.ReadInt64())));
        }

        corpus.Add(new("int-int64-min", (ref MessagePackWriter w) => w.Write(long.MinValue), (ref MessagePackReader r) => Assert.Equal(long.MinValue, r.ReadInt64())));

        // Node encodes every non-integral number as float64, so float32 cases compare values, not bytes.
        AddSingle("float32-1.5", 1.5f);
        AddSingle("float32-max", float.MaxValue);
        AddSingle("float32-epsilon", float.Epsilon);
        AddSingle("float32-minus-infinity", float.NegativeInfinity);
        AddSingle("float32-nan", float.NaN);
        AddDouble("float64-pi", Math.PI);
        AddDouble("float64-0.1", 0.1);
        AddDouble("float64-max", double.MaxValue);
        AddDouble("float64-min", double.MinValue);
        AddDouble("float64-epsilon", double.Epsilon);
        AddDouble("float64-infinity", double.PositiveInfinity);

        // .NET's NaN has the sign bit set, JavaScript's does not: equal as values, different as bytes.
        AddDouble("float64-nan", double.NaN, canonical: false);

        // Node's encoder writes -0 as the integer 0 (Number.isSafeInteger(-0) is true), so only C# -> Node applies.
        AddDouble("float64-minus-zero", -0.0, fromNode: false);

        foreach (int length in new[] { 0, 31, 32, 255, 256, 65535, 65536 })
        {
            string text = Text(length);
            corpus.Add(new($"str-{length}", (ref MessagePackWriter w) => w.Write(text), (ref MessagePackReader r) => Assert.Equal(text, r.ReadString())));
        }

        const string unicode = "héllo wörld ✓ 🚀 日本語 \0 end";
        corpus.Add(new("str-unicode", (ref MessagePackWriter w) => w.Write(unicode), (ref MessagePackReader r) => Assert.Equal(unicode, r.ReadString())));

        foreach (int length in new[] { 0, 1, 255, 256, 65535, 65536 })
        {
            byte[] bytes = Pattern(length);
            corpus.Add(new($"bin-{length}", (ref MessagePackWriter w) => w.Write(bytes), (ref MessagePackReader r) => Assert.Equal(bytes, r.ReadBytes()!.Value.ToArray())));
        }

        foreach (int count in new[] { 0, 15, 16, 65535, 65536 })
        {
            corpus.Add(new(
                $"array-{count}",
                (ref MessagePackWriter w) =>
                {
                    w.WriteArrayHeader(count);
                    for (int i = 0; i < count; i++)
                    {
                        w.Write(i & 0x7f);
                    }
                },
                (ref MessagePackReader r) =>
                {
                    Assert.Equal(count, r.ReadArrayHeader());
                    for (int i = 0; i < count; i++)
                    {
                        Assert.Equal(i & 0x7f, r.ReadInt32());
                    }
                }));
            corpus.Add(new(
                $"map-{count}",
                (ref MessagePackWriter w) =>
                {
                    w.WriteMapHeader(count);
                    for (int i = 0; i < count; i++)
                    {
                        w.Write("k" + i);
                        w.Write(i);
                    }
                },
                (ref MessagePackReader r) =>
                {
                    Assert.Equal(count, r.ReadMapHeader());
                    for (int i = 0; i < count; i++)
                    {
                        Assert.Equal("k" + i, r.ReadString());
                        Assert.Equal(i, r.ReadInt32());
                    }
                }));
        }

        corpus.Add(new("nested", WriteNested, VerifyNested));

        // Whole messages of the ack-batch feature, [opcode, requestId, fields...], as another language's client sees them.
        corpus.Add(new(
            "message-ackbatch",
            (ref MessagePackWriter w) => MessageSerializer.WriteMessage(ref w, 0, new AckBatch { Ids = [InteropId(0), InteropId(1)] }),
            (ref MessagePackReader r) =>
            {
                MessageHeader header = MessageSerializer.ReadHeader(ref r);
                AckBatch batch = MessageSerializer.ReadBody<AckBatch>(ref r, header);
                Assert.Equal([InteropId(0), InteropId(1)], batch.Ids);
            }));
        corpus.Add(new(
            "message-deliveredbatch",
            (ref MessagePackWriter w) => MessageSerializer.WriteMessage(ref w, 0, new DeliveredBatch { Recipient = "bob", Ids = [InteropId(2)] }),
            (ref MessagePackReader r) =>
            {
                MessageHeader header = MessageSerializer.ReadHeader(ref r);
                DeliveredBatch batch = MessageSerializer.ReadBody<DeliveredBatch>(ref r, header);
                Assert.Equal("bob", batch.Recipient);
                Assert.Equal([InteropId(2)], batch.Ids);
            }));

        AddExtension("ext-fixext1", 1, 1);
        AddExtension("ext-fixext2", 2, 2);
        AddExtension("ext-fixext4", 4, 4);
        AddExtension("ext-fixext8", 8, 8);
        AddExtension("ext-fixext16", 16, 16);
        AddExtension("ext-ext8-0", 20, 0);
        AddExtension("ext-ext8-3", 21, 3);
        AddExtension("ext-ext8-255", 22, 255);
        AddExtension("ext-ext16-256", 23, 256);
        AddExtension("ext-ext16-65535", 24, 65535);
        AddExtension("ext-ext32-65536", 127, 65536);

        AddTimestamp("timestamp32-epoch", DateTime.UnixEpoch, MessagePackCode.FixExt4);
        AddTimestamp("timestamp32", new DateTime(2021, 6, 15, 12, 34, 56, DateTimeKind.Utc), MessagePackCode.FixExt4);
        AddTimestamp("timestamp32-max", DateTime.UnixEpoch.AddSeconds(uint.MaxValue), MessagePackCode.FixExt4);
        AddTimestamp("timestamp64-ms", new DateTime(2021, 6, 15, 12, 34, 56, 789, DateTimeKind.Utc), MessagePackCode.FixExt8);
        AddTimestamp("timestamp64-first", DateTime.UnixEpoch.AddSeconds(1L << 32), MessagePackCode.FixExt8);
        AddTimestamp("timestamp64-max", DateTime.UnixEpoch.AddMilliseconds(17179869183999), MessagePackCode.FixExt8);
        AddTimestamp("timestamp64-100ns", DateTime.UnixEpoch.AddSeconds(1700000000).AddTicks(1234567), MessagePackCode.FixExt8);
        AddTimestamp("timestamp96-minus-1s", DateTime.UnixEpoch.AddSeconds(-1), MessagePackCode.Ext8);
        AddTimestamp("timestamp96-minus-500ms", DateTime.UnixEpoch.AddMilliseconds(-500), MessagePackCode.Ext8);
        AddTimestamp("timestamp96-minus-100ns", DateTime.UnixEpoch.AddTicks(-1), MessagePackCode.Ext8);
        AddTimestamp("timestamp96-1900", new DateTime(1900, 1, 1, 0, 0, 0, DateTimeKind.Utc), MessagePackCode.Ext8);
        AddTimestamp("timestamp96-3000", new DateTime(3000, 1, 1, 0, 0, 0, DateTimeKind.Utc), MessagePackCode.Ext8);
        AddTimestamp("timestamp96-year1", new DateTime(1, 1, 1, 0, 0, 0, DateTimeKind.Utc), MessagePackCode.Ext8);
        AddTimestamp("timestamp96-year9999", new DateTime(9999, 12, 31, 23, 59, 59, 999, DateTimeKind.Utc), MessagePackCode.Ext8);

        return [.. corpus];

        void AddSingle(string name, float value) =>
            corpus.Add(new(name, (ref MessagePackWriter w) => w.Write(value), (ref MessagePackReader r) => AssertSameDouble(value, r.ReadDouble()), Canonical: false));

        void AddDouble(string name, double value, bool fromNode = true, bool canonical = true) =>
            corpus.Add(new(name, (ref MessagePackWriter w) => w.Write(value), (ref MessagePackReader r) => AssertSameDouble(value, r.ReadDouble()), fromNode, canonical));

        void AddExtension(string name, sbyte type, int length)
        {
            byte[] data = Pattern(length);
            corpus.Add(new(
                name,
                (ref MessagePackWriter w) => w.WriteExtensionFormat(new ExtensionResult(type, data)),
                (ref MessagePackReader r) =>
                {
                    ExtensionResult extension = r.ReadExtensionFormat();
                    Assert.Equal(type, extension.TypeCode);
                    Assert.Equal(data, extension.Data.ToArray());
                }));
        }

        void AddTimestamp(string name, DateTime value, byte form) =>
            corpus.Add(new(
                name,
                (ref MessagePackWriter w) =>
                {
                    Assert.Equal(form, Encode((ref MessagePackWriter inner) => inner.Write(value))[0]);
                    w.Write(value);
                },
                (ref MessagePackReader r) => Assert.Equal(value, r.ReadDateTime())));
    }

    // [1, {"a": [true, nil, "x"], "b": {"c": -5}}, [[[]]], bin[1, 2, 3]]
    private static void WriteNested(ref MessagePackWriter w)
    {
        w.WriteArrayHeader(4);
        w.Write(1);
        w.WriteMapHeader(2);
        w.Write("a");
        w.WriteArrayHeader(3);
        w.Write(true);
        w.WriteNil();
        w.Write("x");
        w.Write("b");
        w.WriteMapHeader(1);
        w.Write("c");
        w.Write(-5);
        w.WriteArrayHeader(1);
        w.WriteArrayHeader(1);
        w.WriteArrayHeader(0);
        w.Write(new byte[] { 1, 2, 3 });
    }

    private static void VerifyNested(ref MessagePackReader r)
    {
        Assert.Equal(4, r.ReadArrayHeader());
        Assert.Equal(1, r.ReadInt32());
        Assert.Equal(2, r.ReadMapHeader());
        Assert.Equal("a", r.ReadString());
        Assert.Equal(3, r.ReadArrayHeader());
        Assert.True(r.ReadBoolean());
        r.ReadNil();
        Assert.Equal("x", r.ReadString());
        Assert.Equal("b", r.ReadString());
        Assert.Equal(1, r.ReadMapHeader());
        Assert.Equal("c", r.ReadString());
        Assert.Equal(-5, r.ReadInt32());
        Assert.Equal(1, r.ReadArrayHeader());
        Assert.Equal(1, r.ReadArrayHeader());
        Assert.Equal(0, r.ReadArrayHeader());
        Assert.Equal(new byte[] { 1, 2, 3 }, r.ReadBytes()!.Value.ToArray());
    }

    private static void AssertSameDouble(double expected, double actual)
    {
        if (double.IsNaN(expected))
        {
            Assert.True(double.IsNaN(actual), $"expected NaN, got {actual}");
            return;
        }

        // Bitwise, so that -0.0 is not taken for 0.0.
        Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(actual));
    }

    private static string RequireNode()
    {
        string? node = FindOnPath(OperatingSystem.IsWindows() ? "node.exe" : "node");
        Skip.If(node is null, "Node.js ('node') is not on PATH; the cross-language MessagePack check against @msgpack/msgpack needs it.");
        return node!;
    }

    private static string? FindOnPath(string fileName)
    {
        string[] directories = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return directories.Select(d => Path.Combine(d, fileName)).FirstOrDefault(File.Exists);
    }

    // Installs the pinned @msgpack/msgpack from package-lock.json the first time (npm ci), once per test run.
    private static async Task<string> EnsureNodeModulesAsync()
    {
        string directory = Path.Combine(FindRepositoryRoot(), "tests", "interop");
        await NodeModulesLock.WaitAsync().WaitAsync(NpmTimeout);
        try
        {
            if (!Directory.Exists(Path.Combine(directory, "node_modules", "@msgpack", "msgpack")))
            {
                string? npm = FindOnPath(OperatingSystem.IsWindows() ? "npm.cmd" : "npm");
                Assert.True(npm is not null, "node is on PATH but npm is not; run 'npm ci' in tests/interop.");
                await RunAsync(npm!, ["ci", "--no-audit", "--no-fund"], directory, stdin: null, NpmTimeout);
            }
        }
        finally
        {
            NodeModulesLock.Release();
        }

        return directory;
    }

    private static string FindRepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "FastChat.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No FastChat.sln above {AppContext.BaseDirectory}.");
    }

    private static async Task<string> RunAsync(string fileName, string[] arguments, string workingDirectory, string? stdin, TimeSpan timeout)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        try
        {
            // Drain both pipes while writing, so neither side can block on a full pipe.
            Task<string> output = process.StandardOutput.ReadToEndAsync();
            Task<string> error = process.StandardError.ReadToEndAsync();
            if (stdin is not null)
            {
                await process.StandardInput.WriteAsync(stdin).WaitAsync(timeout);
            }

            process.StandardInput.Close();
            await process.WaitForExitAsync().WaitAsync(timeout);
            string stdout = await output.WaitAsync(timeout);
            string stderr = await error.WaitAsync(timeout);
            Assert.True(process.ExitCode == 0, $"'{fileName} {string.Join(' ', arguments)}' exited with {process.ExitCode}:\n{stderr}");
            return stdout;
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    // The same bytes as messageId(n) in msgpack-interop.mjs: 16 bytes, (n * 16 + i) & 0xff.
    private static MessageId InteropId(int n)
    {
        Span<byte> bytes = stackalloc byte[MessageId.Size];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)((n * 16) + i);
        }

        return new MessageId(bytes);
    }

    private sealed record InteropCase(string Name, WriteAction Write, ReadAction Verify, bool FromNode = true, bool Canonical = true);

    private sealed record EncodedCase(string Name, string Base64);

    private sealed record DecodeRequest(IReadOnlyList<EncodedCase> Cases);

    private sealed record DecodeResult(string Name, bool Ok, string Message);

    private sealed record DecodeResponse(IReadOnlyList<DecodeResult> Results);

    private sealed record EncodeRequest(IReadOnlyList<string> Names);

    private sealed record EncodeResponse(IReadOnlyList<EncodedCase> Cases);
}
