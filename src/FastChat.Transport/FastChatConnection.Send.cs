using System.Buffers;
using System.IO.Pipelines;

namespace FastChat.Transport;

public abstract partial class FastChatConnection
{
    private async Task SendLoopAsync()
    {
        PipeReader output = _outputPipe.Reader;
        try
        {
            while (true)
            {
                ReadResult result;
                try
                {
                    result = await output.ReadAsync().ConfigureAwait(false);
                }
#pragma warning disable CA1031 // The application completed Output with an error: that is its way of aborting.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    Abort(CloseReason.Aborted, ex);
                    return;
                }

                // Cancelled: the connection is being torn down and queued output is dropped.
                if (result.IsCanceled)
                {
                    return;
                }

                ReadOnlySequence<byte> buffer = result.Buffer;
                if (!buffer.IsEmpty)
                {
                    await SendCoreAsync(buffer).ConfigureAwait(false);
                    OnBytesSent(buffer.Length);
                }

                output.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    // The application finished writing and everything is sent: tell the peer (FIN).
                    if (!IsClosed)
                    {
                        await ShutdownSendCoreAsync().ConfigureAwait(false);
                    }

                    return;
                }
            }
        }
#pragma warning disable CA1031 // Every failure of the loop is recorded on the connection; none may escape to the thread pool.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            FailWith(ex);
        }
        finally
        {
            // Completed without an error even after a failure: writers learn of the close from the flush result
            // (IsCompleted) and CloseReason, and a relay writing to a dead connection must not throw.
            output.Complete();
            ReleaseReference();
        }
    }
}
