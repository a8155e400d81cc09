/**
 * This file was generated from openapi.yaml by scripts/generate.ts (`npm run generate`).
 * Do not make direct changes to the file.
 */

export const operationIndex = {
  getCurrentUser: {"method":"GET","path":"/api/me","authenticated":true,"handled":true,"queryDefaults":{}},
  deleteCurrentUser: {"method":"DELETE","path":"/api/me","authenticated":true,"handled":true,"queryDefaults":{}},
  updateCurrentUser: {"method":"PATCH","path":"/api/me","authenticated":true,"handled":true,"queryDefaults":{}},
  listTasks: {"method":"GET","path":"/api/{user_id}/tasks","authenticated":true,"handled":true,"queryDefaults":{"status":"all","sort":"created_at","limit":50}},
  createTask: {"method":"POST","path":"/api/{user_id}/tasks","authenticated":true,"handled":true,"queryDefaults":{}},
  getTask: {"method":"GET","path":"/api/{user_id}/tasks/{task_id}","authenticated":true,"handled":true,"queryDefaults":{}},
  replaceTask: {"method":"PUT","path":"/api/{user_id}/tasks/{task_id}","authenticated":true,"handled":true,"queryDefaults":{}},
  deleteTask: {"method":"DELETE","path":"/api/{user_id}/tasks/{task_id}","authenticated":true,"handled":true,"queryDefaults":{}},
  updateTask: {"method":"PATCH","path":"/api/{user_id}/tasks/{task_id}","authenticated":true,"handled":true,"queryDefaults":{}},
  moveTask: {"method":"POST","path":"/api/{user_id}/tasks/{task_id}/move","authenticated":true,"handled":true,"queryDefaults":{}},
  toggleTaskCompletion: {"method":"PATCH","path":"/api/{user_id}/tasks/{task_id}/complete","authenticated":true,"handled":true,"queryDefaults":{}},
  restoreTask: {"method":"POST","path":"/api/{user_id}/tasks/{task_id}/restore","authenticated":true,"handled":true,"queryDefaults":{}},
  clearCompletedTasks: {"method":"POST","path":"/api/{user_id}/tasks/clear-completed","authenticated":true,"handled":true,"queryDefaults":{}},
  listTaskCompletions: {"method":"GET","path":"/api/{user_id}/tasks/{task_id}/completions","authenticated":true,"handled":true,"queryDefaults":{"limit":50}},
  listTrash: {"method":"GET","path":"/api/{user_id}/trash","authenticated":true,"handled":true,"queryDefaults":{"limit":50}},
  purgeTask: {"method":"DELETE","path":"/api/{user_id}/trash/{task_id}","authenticated":true,"handled":true,"queryDefaults":{}},
  listCategories: {"method":"GET","path":"/api/{user_id}/categories","authenticated":true,"handled":true,"queryDefaults":{}},
  createCategory: {"method":"POST","path":"/api/{user_id}/categories","authenticated":true,"handled":true,"queryDefaults":{}},
  getCategory: {"method":"GET","path":"/api/{user_id}/categories/{category_id}","authenticated":true,"handled":true,"queryDefaults":{}},
  deleteCategory: {"method":"DELETE","path":"/api/{user_id}/categories/{category_id}","authenticated":true,"handled":true,"queryDefaults":{}},
  updateCategory: {"method":"PATCH","path":"/api/{user_id}/categories/{category_id}","authenticated":true,"handled":true,"queryDefaults":{}},
  runBatch: {"method":"POST","path":"/api/{user_id}/batch","authenticated":true,"handled":true,"queryDefaults":{}},
  exportAccount: {"method":"GET","path":"/api/{user_id}/export","authenticated":true,"handled":true,"queryDefaults":{}},
  importAccount: {"method":"POST","path":"/api/{user_id}/import","authenticated":true,"handled":true,"queryDefaults":{}},
  syncChanges: {"method":"GET","path":"/api/{user_id}/sync","authenticated":true,"handled":true,"queryDefaults":{"limit":500}},
  listWebhooks: {"method":"GET","path":"/api/{user_id}/webhooks","authenticated":true,"handled":true,"queryDefaults":{}},
  createWebhook: {"method":"POST","path":"/api/{user_id}/webhooks","authenticated":true,"handled":true,"queryDefaults":{}},
  getWebhook: {"method":"GET","path":"/api/{user_id}/webhooks/{webhook_id}","authenticated":true,"handled":true,"queryDefaults":{}},
  deleteWebhook: {"method":"DELETE","path":"/api/{user_id}/webhooks/{webhook_id}","authenticated":true,"handled":true,"queryDefaults":{}},
  updateWebhook: {"method":"PATCH","path":"/api/{user_id}/webhooks/{webhook_id}","authenticated":true,"handled":true,"queryDefaults":{}},
  listWebhookDeliveries: {"method":"GET","path":"/api/{user_id}/webhooks/{webhook_id}/deliveries","authenticated":true,"handled":true,"queryDefaults":{}},
  streamEvents: {"method":"GET","path":"/api/{user_id}/events","authenticated":true,"handled":true,"queryDefaults":{}},
  getHealth: {"method":"GET","path":"/health","authenticated":false,"handled":true,"queryDefaults":{}},
  getReadiness: {"method":"GET","path":"/ready","authenticated":false,"handled":true,"queryDefaults":{}},
  getContractJson: {"method":"GET","path":"/openapi.json","authenticated":false,"handled":false,"queryDefaults":{}},
  getContractYaml: {"method":"GET","path":"/openapi.yaml","authenticated":false,"handled":false,"queryDefaults":{}},
  getDocs: {"method":"GET","path":"/docs","authenticated":false,"handled":false,"queryDefaults":{}}
} as const
