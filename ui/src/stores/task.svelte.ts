// Which task the playground shows: chat or images. Outlives the screens so the choice stays.
export type PlaygroundTask = "chat" | "image";

class TaskStore {
  value = $state<PlaygroundTask>("chat");
}

export const task = new TaskStore();
