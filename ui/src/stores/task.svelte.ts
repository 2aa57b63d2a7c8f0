// Which task the playground shows: chat, images or embeddings. Outlives the screens so the choice stays.
export type PlaygroundTask = "chat" | "image" | "embeddings";

class TaskStore {
  value = $state<PlaygroundTask>("chat");
}

export const task = new TaskStore();
