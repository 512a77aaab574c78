using System.Buffers;
using System.IO.Pipelines;

namespace FastChat.Transport.Tests;

// Output buffers writes itself and hands them to the pipe only per block or per flush; these guard that the
// buffering is invisible.
public sealed class ConnectionOutputTests
{
    /// <summary>Guards the counters while bytes sit in Output's own buffer: they count as unflushed and as pending, and a flush hands them on.</summary>
    [Fact]
    public async Task Write_BeforeFlush_CountsAsUnflushedAndPending()
    {
        await using LoopbackPair pair = await LoopbackPair.CreateAsync();
        PipeWriter output = pair.Client.Output;

        output.GetSpan(10)[..10].Fill(7);
        output.Advance(10);

        Assert.True(output.CanGetUnflushedBytes);
        Assert.Equal(10, output.UnflushedBytes);
        Assert.Equal(10, pair.Client.PendingSendBytes);

        await output.FlushAsync().WithTimeout();
        Assert.Equal(0, output.UnflushedBytes);
        byte[] received = await Loopback.ReadExactlyAsync(pair.Server.Input, 10).WithTimeout();
        Assert.Equal(Enumerable.Repeat((byte)7, 10), received);
    }

    /// <summary>Regression guard: bytes written but never flushed are still sent, before the FIN, when Output is completed.</summary>
    [Fact]
    public async Task Complete_WithoutFlush_SendsTheWrittenBytesBeforeFin()
    {
        await using LoopbackPair pair = await LoopbackPair.CreateAsync();
        new byte[] { 1, 2, 3 }.CopyTo(pair.Client.Output.GetSpan(3));
        pair.Client.Output.Advance(3);

        await pair.Client.Output.CompleteAsync();

        byte[] received = await Loopback.ReadExactlyAsync(pair.Server.Input, 3).WithTimeout();
        Assert.Equal(new byte[] { 1, 2, 3 }, received);
        ReadResult end = await pair.Server.Input.ReadAsync().WithTimeout();
        Assert.True(end.IsCompleted);
        Assert.True(end.Buffer.IsEmpty);
    }

    /// <summary>
    /// Guards moving from one buffer to the next: many small writes of odd sizes, flushed rarely, so that writes keep
    /// asking for more room than the current buffer has left, arrive complete and in order.
    /// </summary>
    [Fact]
    public async Task Write_ManyOddSizedWritesAcrossBuffers_ArriveInOrder()
    {
        await using LoopbackPair pair = await LoopbackPair.CreateAsync();
        byte[] data = TestData.Pattern(3 * 1024 * 1024 / 2, seed: 5);
        Task<byte[]> receive = Loopback.ReadExactlyAsync(pair.Server.Input, data.Length);

        int offset = 0;
        int writes = 0;
        while (offset < data.Length)
        {
            int count = Math.Min(1 + ((writes * 7919) % 3000), data.Length - offset);
            Span<byte> span = pair.Client.Output.GetSpan(count);
            Assert.True(span.Length >= count);
            data.AsSpan(offset, count).CopyTo(span);
            pair.Client.Output.Advance(count);
            offset += count;
            if (++writes % 200 == 0)
            {
                await pair.Client.Output.FlushAsync().WithTimeout();
            }
        }

        await pair.Client.Output.FlushAsync().WithTimeout();

        Assert.Equal(data, await receive.WithTimeout());
        Assert.Equal(data.Length, pair.Client.BytesSent);
    }

    /// <summary>Guards the PipeWriter contract: advancing past the buffer handed out is refused and nothing is counted.</summary>
    [Fact]
    public async Task Advance_PastTheBuffer_Throws()
    {
        await using LoopbackPair pair = await LoopbackPair.CreateAsync();
        Memory<byte> memory = pair.Client.Output.GetMemory(16);

        Assert.Throws<ArgumentOutOfRangeException>(() => pair.Client.Output.Advance(memory.Length + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => pair.Client.Output.Advance(-1));
        Assert.Equal(0, pair.Client.PendingSendBytes);
    }
}
