// Which task the playground shows: chat, images, video, embeddings or speech. Outlives the screens so the choice stays.
export type PlaygroundTask = "chat" | "image" | "video" | "embeddings" | "speech";

class TaskStore {
  value = $state<PlaygroundTask>("chat");
}

export const task = new TaskStore();
