package app

// helpZH returns the Traditional Chinese (Taiwan) translation of every
// Config field's help tag, by variable name.
//
// It exists because README.zh-TW.md's configuration table is generated from
// Config like README.md's, and the English help text has no place there. The
// translations live beside config.go rather than in the README so that adding
// or renaming a variable without translating it fails a test
// (TestHelpZHCoversConfig) instead of leaving the Chinese table silently
// incomplete or out of date.
func helpZH() map[string]string {
	return map[string]string{
		// server
		"API_PORT":         "API 監聽的連接埠（0 表示自動挑選一個可用的連接埠）。",
		"API_HOST":         "要綁定的位址；留空則綁定所有網路介面。",
		"NODE_ENV":         "development 會顯示錯誤細節並允許使用 SKIP_AUTH；production 以 JSON 格式輸出日誌。",
		"LOG_LEVEL":        "debug、info、warn 或 error。",
		"IVSLIVE_DATA_DIR": "嵌入模式存放 SQLite、模擬器狀態、簽章金鑰，以及自動產生之 API 金鑰與 session token 金鑰的目錄（每個檔案皆為 0600）。",
		"MAX_BODY_BYTES":   "可接受的最大請求內容（位元組），超過時回應 413。",
		"CORS_ORIGINS":     "允許呼叫 API 的瀏覽器來源（origin），以逗號分隔；* 表示允許任何來源。",
		"DEBUG_ADDR":       "在這個位址的 /debug/pprof/ 提供 Go 的效能剖析資料（net/http/pprof），例如 127.0.0.1:6060（連接埠 0 表示自動挑選），供 go tool pprof 與 ivslive loadtest --serve --profile 使用；留空則關閉。只接受本機迴路位址（127.0.0.0/8、::1、localhost）：剖析資料會暴露伺服器的內部細節。",

		// auth
		"API_SECRET_KEY":           "管理員 API 金鑰，以 x-api-key 標頭傳送。未設定時會在資料目錄中產生一把隨機金鑰，並只印出一次。",
		"API_KEYS":                 "其他金鑰，格式為以逗號分隔的 name:scope:secret（scope 為 admin、read 或 viewer）；同一 scope 可同時設定兩把金鑰，輪替時不必停機。",
		"WS_PUBLIC":                "true 讓任何人不需金鑰就能讀取 WebSocket 的 stats 與 stage 頻道（events 頻道一律需要金鑰）。",
		"WS_MAX_CONNECTIONS":       "單一執行個體最多保持的 WebSocket 連線數（超過時回應 503）；0 表示不設上限。",
		"WS_MAX_PER_KEY":           "單一 API 金鑰在單一執行個體上最多保持的 WebSocket 連線數（超過時回應 429）；0 表示不設上限。",
		"WS_MAX_PER_ADDRESS":       "單一用戶端位址（IPv6 以 /64 計）在單一執行個體上最多保持的 WebSocket 連線數（超過時回應 429）；0 表示不設上限。",
		"SESSION_TOKEN_SECRET":     "簽署觀眾 session token 的金鑰（至少 32 個字元）。未設定時會產生一把隨機金鑰並共用：設定了 Redis 時存於 Redis（所有執行個體讀到同一把），否則存於資料目錄。",
		"TRUST_PROXY":              "判斷用戶端位址時要相信誰的 X-Forwarded-For：true（全部）、經過的代理層數，或以逗號分隔的代理伺服器位址／CIDR；留空則一律不相信。",
		"RATE_LIMIT_WINDOW_MS":     "速率限制的時間窗（毫秒）。",
		"RATE_LIMIT_MAX_REQUESTS":  "在 /api 路由上，每把 API 金鑰與每個用戶端位址在一個時間窗內可發出的請求數（0 表示關閉限制）。",
		"RATE_LIMIT_HEARTBEAT_MAX": "每把金鑰、每個 session 與每個用戶端位址在一個時間窗內可送出的心跳數，由各執行個體各自計算（不經過 Redis）：這是獨立的額度，觀眾不會因為管理端呼叫頻繁而被限流。",
		"AUTH_FAILURE_MAX":         "每個用戶端位址在 AUTH_FAILURE_WINDOW 內，於任何介面（/api、/ws、/metrics、模擬器）可失敗的 API 金鑰驗證次數；超過後不論送出哪把金鑰都回應 429，直到額度恢復。透過 Redis 共用；0 表示關閉。",
		"AUTH_FAILURE_WINDOW":      "AUTH_FAILURE_MAX 的時間窗（秒）。",
		"SKIP_AUTH":                "true 會停用 API 金鑰檢查，且只在 NODE_ENV=development 時有效。",
		"INTERNAL_SECRET":          "/api/token/mediaserver 所需的 x-internal-secret；未設定時，該路由會拒絕所有請求。",

		// ivs
		"AWS_REGION":            "IVS Stage 所在的 AWS 區域。",
		"AWS_ACCESS_KEY_ID":     "AWS 憑證；未設定時使用 SDK 預設的憑證鏈（共用設定檔、SSO、IAM 角色）。",
		"AWS_SESSION_TOKEN":     "臨時憑證（SSO、assume-role）的 session token，與 AWS_ACCESS_KEY_ID 搭配使用；由 AWS SDK 從環境變數讀取，ivslive 則從 ./.env 讀取。",
		"AWS_SECRET_ACCESS_KEY": "靜態 AWS 憑證，與 AWS_ACCESS_KEY_ID 搭配使用。",
		"AWS_ACCOUNT_ID":        "模擬器寫進 ARN 的帳號 ID（AWS 模式則從 ARN 中讀取）。",
		"IVS_BACKEND":           "emulator 或 aws；有設定 MASTER_STAGE_ARN 時預設為 aws，否則為 emulator。",
		"EMULATOR_CONTROL":      "誰可以使用嵌入式模擬器在 /ivs/ 的控制平面（建立 Stage、簽發 Token、匯入金鑰）：loopback（僅限直接來自本機的請求，經過代理或設定了 TRUST_PROXY 時一律拒絕）、key（x-api-key 帶管理員金鑰）或 off。其 JWKS、/ivs/whip/ 與 /ivs/playback/ 仍然公開（其 Token 即為憑證）。",
		"IVS_ENDPOINT":          "覆寫 IVS Real-Time 的端點 URL（例如指向獨立執行的 ivslive 模擬器）。",
		"IVS_PRIVATE_KEY":       "用來自行簽發 Token 的 PEM 格式 ES384（P-384）私鑰。",
		"IVS_PRIVATE_KEY_FILE":  "存放該 PEM 私鑰的檔案（用來取代 IVS_PRIVATE_KEY）。",
		"IVS_PUBLIC_KEY_ARN":    "已匯入之公鑰的 ARN（ivslive keygen --import 會印出）。有私鑰時使用金鑰對 Token；沒有私鑰時改用 CreateParticipantToken。",
		"MASTER_STAGE_ARN":      "主播所在的 Stage。未設定時，第一次啟動會自動建立一個並記住。",
		"IVS_EVENTS_QUEUE_URL":  "EventBridge 規則（來源 aws.ivs、IVS Stage Update）將 IVS 事件送入的 SQS 佇列 URL；每個執行個體都會消費它（見 deploy/ivs-events.yaml）。未設定時：模擬器模式使用模擬器自己的佇列；AWS 模式則不接收 IVS 事件。",
		"EMULATOR_MEDIA_ADDR":   "模擬器 WebRTC 媒體（WHIP 推流、播放）使用的 UDP IP:連接埠：此 IP 是唯一提供給用戶端的 ICE 候選位址，要從另一台機器推流時請設為區域網路（LAN）位址；連接埠 0 表示自動挑選。",

		// stages
		"PRESENCE_RECONCILE_INTERVAL":  "主節點比對觀眾與 IVS 參與者的間隔（秒）：IVS 看到已離開的觀眾會以 disconnected 結束，IVS 的連線人數會與心跳人數並列顯示。在 AWS 上每一輪對每個 Stage 各呼叫一次 GetStage 與 ListParticipants（各 5 TPS）；內嵌模擬器另會即時回報每次加入與離開。",
		"STAGE_NAME_PREFIX":            "ivslive 所建立之 Stage 的名稱前綴。",
		"MAX_STAGES":                   "受管理 Stage 的數量上限，包含手動建立與自動擴展的 Stage；任何執行個體上同時進行的建立都不會超過此上限。",
		"MAX_VIEWERS_PER_STAGE":        "單一 Stage 可容納的觀眾上限：即 IVS 每個 Stage 的訂閱者配額（10,000；若 AWS 已為你提高，請設為你的值）。複製出來的 Stage 是單一 Stage 滿了之後的下一層。",
		"SCALE_UP_THRESHOLD":           "新觀眾優先分配到人數低於此值的 Stage；整個 Stage 池達到此容量的 80% 時，擴展器會新增一個 Stage。0 表示 MAX_VIEWERS_PER_STAGE 的 90%。",
		"MAX_CONCURRENT_SUBSCRIPTIONS": "AWS 帳號在該區域的同時訂閱配額（預設 20,000；若 AWS 已為你提高，請設為你的值）：超過後不再分配觀眾，回應會說明原因。",
		"SCALE_DOWN_THRESHOLD":         "自動擴展的 Stage 在暖機期過後，觀眾數小於或等於此值時會先排空再刪除。",
		"PLAYBACK_ENABLED":             "true 會把超過即時席位的觀眾導向 IVS 低延遲頻道：主 Stage 的伺服器端合成（StartComposition）轉播到該頻道，觀眾的回應改為 mode playback 與 playbackUrl，而非 STAGE_FULL。請求指定 mode realtime 時仍回 STAGE_FULL。",
		"PLAYBACK_CHANNEL_ARN":         "要沿用的頻道；未設定時沿用標記 ManagedBy=ivslive、Audience=playback 的頻道，或建立新的。",
		"PLAYBACK_PRIVATE":             "建立的頻道為私有：觀眾會拿到附加在 playbackUrl 後的播放 Token（ES384，IVS 的 playback key 格式）。",
		"PLAYBACK_PRIVATE_KEY_FILE":    "簽發播放 Token 的 PEM P-384 私鑰；啟動時把公鑰匯入 IVS（ImportPlaybackKeyPair）。未設定時在 DATA_DIR 產生一把。",
		"PLAYBACK_WARM_VIEWERS":        "即時觀眾達到此數時即啟動合成，讓頻道在席位用完前已經在播；0 表示第一位播放觀眾出現時才啟動（該觀眾需等待）。",
		"PLAYBACK_TOKEN_DURATION":      "播放 Token 的有效期（秒）。",
		"AUTO_SCALE_ENABLED":           "false 會關閉 Stage 自動擴展。",
		"HEALTH_CHECK_INTERVAL":        "擴展器檢查 Stage 池的間隔（秒）；有觀眾加入而越過門檻時也會立即觸發檢查。",
		"SCALE_WARMUP":                 "新建立的自動擴展 Stage 在存在滿這段時間之前，絕不會被縮減（秒）。",
		"STAGE_DRAIN_TIMEOUT":          "排空中的 Stage 在清空後刪除；即使仍有觀眾，經過這段時間後也會刪除（秒）。",
		"VIEWER_TIMEOUT":               "觀眾超過這段時間沒有送出心跳就會被移除（秒）；用戶端每 30 秒送一次心跳。",

		// tokens
		"PUBLISHER_TOKEN_DURATION":   "主播 Token 的有效期（秒，或 4h 這類 Go duration 格式）。IVS 只在加入時檢查它：主播開始推流後，只要仍在推流，直播就持續。",
		"PUBLISHER_GRACE_PERIOD":     "IVS 回報主播停止推流後，直播仍維持的時間（秒），讓編碼器重新啟動不會結束直播。",
		"VIEWER_TOKEN_DURATION":      "觀眾 Token 的有效期（秒）。",
		"MEDIASERVER_TOKEN_DURATION": "媒體伺服器 Token 的有效期（秒）。",

		// history
		"SNAPSHOT_INTERVAL":       "記錄每個 Stage 的觀眾數、並為進行中的觀看 session 建立檢查點的間隔（秒）。",
		"SNAPSHOT_RETENTION_DAYS": "超過這個天數的快照每天清除一次；0 表示永久保留。",
		"SESSION_RETENTION_DAYS":  "超過這個天數的觀看紀錄每天清除一次；0（預設值）表示永久保留。",
		"HISTORY_MAX_LAG":         "已結束的觀看 session 等待寫入歷史資料庫（Redis stream 或本機暫存佇列）超過這段時間時，/api/health 會將 history 回報為 degraded（秒）。",

		// metrics
		"CLOUDWATCH_ENABLED":   "true 會每隔 METRICS_INTERVAL 將 TotalViewers、ActiveStages、StageViewers、TokensIssued 與 ApiErrors 送到 CloudWatch（只由 leader 傳送）；在 NODE_ENV=production 且使用 AWS IVS 時預設開啟，其他情況預設關閉。",
		"CLOUDWATCH_NAMESPACE": "這些指標的 CloudWatch 命名空間。",
		"CLOUDWATCH_ENDPOINT":  "覆寫 CloudWatch 的端點 URL（測試、LocalStack 用）。",
		"METRICS_ADDR":         "另外在這個位址提供免金鑰的 /metrics（例如 127.0.0.1:9090），給私有網路中的 Prometheus 等抓取程式使用。",
		"METRICS_INTERVAL":     "CloudWatch 指標的傳送間隔（秒）。",

		// webhooks
		"WEBHOOK_URLS":            "以逗號分隔的 URL，接收所有事件（簽章、持久排隊、失敗重試）；在指標與管理路由中以主機名稱命名。",
		"WEBHOOK_SECRET":          "WEBHOOK_URLS 的簽章密鑰：whsec_ 加上 24–64 個隨機位元組的 base64；以逗號分隔多把以便輪替（每一把都會簽章）。",
		"WEBHOOK_TARGETS":         "具名的接收端，各有自己的密鑰與事件篩選：JSON 陣列 [{name, url, secrets, events, timeout, maxConnections}]，或存放該陣列的檔案路徑（見 docs/WEBHOOKS.md）。",
		"WEBHOOK_MAX_AGE":         "尚未送達的事件持續重試多久（秒，或 24h 這類時間長度），以指數退避加隨機抖動重試，逾時即放棄。",
		"WEBHOOK_TIMEOUT":         "單次投遞嘗試的時間上限（秒），適用於未自行設定的接收端。",
		"WEBHOOK_MAX_CONNECTIONS": "每個執行個體對同一接收端同時進行中的投遞數上限，適用於未自行設定的接收端。",
		"WEBHOOK_ALLOW_PRIVATE":   "true 允許接收端位於 loopback、私有、link-local 等非公開位址（在連線當下、DNS 解析之後檢查）。",

		// redis
		"REDIS_URL":         "redis:// 或 rediss:// URL。設定此值（或 REDIS_HOST）即改用 Redis 保存在線狀態。",
		"REDIS_HOST":        "Redis 主機，沿用 Node 版的設定方式（搭配 REDIS_PORT、REDIS_PASSWORD、REDIS_DB、REDIS_TLS_ENABLED）。",
		"REDIS_PORT":        "Redis 連接埠。",
		"REDIS_PASSWORD":    "Redis 密碼。",
		"REDIS_DB":          "Redis 資料庫編號。",
		"REDIS_TLS_ENABLED": "true 會以 TLS 連線（ElastiCache 的傳輸中加密）。",
		"REDIS_KEY_PREFIX":  "所有 Redis 鍵的前綴。",

		// postgres
		"DATABASE_URL":         "PostgreSQL URL（或 libpq 的 keyword/value 字串）。設定此值（或 DB_HOST）即改用 PostgreSQL 取代 SQLite 保存歷史紀錄。",
		"DB_HOST":              "PostgreSQL 主機，沿用 Node 版的設定方式（搭配 DB_PORT、DB_NAME、DB_USER、DB_PASSWORD、DB_SSL_ENABLED）。",
		"DB_PORT":              "PostgreSQL 連接埠。",
		"DB_NAME":              "PostgreSQL 資料庫名稱。",
		"DB_USER":              "PostgreSQL 使用者。",
		"DB_PASSWORD":          "PostgreSQL 密碼。",
		"DB_SSL_ENABLED":       "true 會要求以 TLS 連線到 PostgreSQL。",
		"DB_POOL_MAX":          "連線池的連線數上限。",
		"DB_POOL_MIN":          "隨時保持開啟的連線數。",
		"DB_SCHEMA":            "存放 ivslive 資料表的 schema，與 Node 版放在 public 的資料表分開。",
		"DB_STATEMENT_TIMEOUT": "PostgreSQL 單一查詢可執行的最長時間（秒，或 500ms 這類 duration 格式）：超過時由伺服器取消查詢，呼叫端則再多等一秒後放棄並回應 503，即使伺服器完全沒有回應也一樣。",
	}
}

// groupZH names the configuration groups in README.zh-TW.md's table.
func groupZH() map[string]string {
	return map[string]string{
		"server": "伺服器", "auth": "驗證與限流", "ivs": "IVS", "stages": "Stage 與自動擴展",
		"tokens": "Token", "redis": "Redis", "postgres": "PostgreSQL", "history": "歷史紀錄", "metrics": "指標",
		"webhooks": "Webhook",
	}
}
