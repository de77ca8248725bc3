using Microsoft.Extensions.AI;

namespace CausalEval.Tests;

/// <summary>
/// A chat model that always intervenes on the first variable at +5 and counts what it was sent: enough to play every
/// task's explore and exploit questions with valid answers.
/// </summary>
internal sealed class FirstVariableClient : IChatClient
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public List<string> FirstMessages { get; } = [];

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _calls);
        lock (FirstMessages)
        {
            FirstMessages.Add(messages.First().Text);
        }
        var answer = new ChatMessage(ChatRole.Assistant, "I will test A first.\nACTION: do(A = 5)");
        return Task.FromResult(new ChatResponse(answer) { Usage = new UsageDetails { InputTokenCount = 100, OutputTokenCount = 10 } });
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}

/// <summary>A temporary folder, removed with everything in it.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"causaleval-lib-{Guid.NewGuid():N}");

    public TempFolder() => Directory.CreateDirectory(Path);

    public string this[string name] => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
