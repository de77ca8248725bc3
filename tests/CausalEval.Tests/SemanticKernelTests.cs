using CausalEval.Core.Running;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using CausalEval.Core.Results;

namespace CausalEval.Tests;

public class SemanticKernelTests
{
    /// <summary>A Semantic Kernel chat service that answers every question with the same experiment.</summary>
    private sealed class SkService : IChatCompletionService
    {
        public int Calls;

        public IReadOnlyDictionary<string, object?> Attributes { get; } = new Dictionary<string, object?>();

        public Task<IReadOnlyList<ChatMessageContent>> GetChatMessageContentsAsync(ChatHistory chatHistory, PromptExecutionSettings? executionSettings = null,
            Kernel? kernel = null, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Calls);
            IReadOnlyList<ChatMessageContent> answer = [new ChatMessageContent(AuthorRole.Assistant, "ACTION: do(B = -5)")];
            return Task.FromResult(answer);
        }

        public IAsyncEnumerable<StreamingChatMessageContent> GetStreamingChatMessageContentsAsync(ChatHistory chatHistory,
            PromptExecutionSettings? executionSettings = null, Kernel? kernel = null, CancellationToken cancellationToken = default)
            => throw new NotSupportedException();
    }

    /// <summary>Just enough of a service provider to hold one chat service, as a Kernel built by its builder does.</summary>
    private sealed class Services(IChatCompletionService chat) : IServiceProvider
    {
        public object? GetService(Type serviceType) =>
            serviceType == typeof(IChatCompletionService) ? chat
            // Plugins, filters and other lists the Kernel asks for: none.
            : serviceType.IsGenericType && serviceType.GetGenericTypeDefinition() == typeof(IEnumerable<>) ? Array.CreateInstance(serviceType.GetGenericArguments()[0], 0)
            : null;
    }

    [Fact]
    public async Task A_kernels_chat_completion_service_is_evaluated_through_AsChatClient()
    {
        using var dir = new TempFolder();
        var service = new SkService();
        var kernel = new Kernel(new Services(service));

        // What the README shows a Semantic Kernel user.
        var chatClient = kernel.GetRequiredService<IChatCompletionService>().AsChatClient();
        var result = await CausalEvaluation.RunAsync(new EvaluationOptions
        {
            Tasks = ["passive-exploit-interventional"],
            Models = [EvaluatedModel.FromChatClient("sk-model", chatClient)],
            Episodes = 4,
            OutputDirectory = dir["run"],
            UseResponseCache = false,
        });

        Assert.Equal(RunStatus.Finished, result.Status);
        Assert.Equal(4, service.Calls);
        var entry = Assert.Single(result.Leaderboard);
        Assert.Equal(("sk-model", 4L), (entry.Model, entry.Trials));
        Assert.All(TrialLog.Read(Path.Combine(result.RunDirectory, "trials.jsonl")), t => Assert.Equal(0, t.Scores!.Value.ParseFailures));
    }
}
