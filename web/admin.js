/* admin.js - the editors' dashboard behind web/admin.html (/admin/).
 *
 * Owns every behaviour of the page: the token login (kept in sessionStorage only), the views
 * chosen by the location hash (#: poll list, #new, #poll/ID, #visits[/SITE]), the poll form
 * shared by "new" and "edit" (checks that mirror the service's, each field's error cleared as
 * soon as the field is fixed), the confirmation dialog, the reset of a poll's results (asked
 * twice: a confirmation, then the poll id typed), the integrity summary, the audit log (#audit), the embed codes and their preview, the
 * SVG charts (drawn for the width of the page, with table alternatives), CSV downloads, and the
 * visitor counter with its bases. Talks to /admin/v1/ and reads the public counter
 * /api/v1/visits; must not keep the token anywhere but sessionStorage.
 * Dates are shown dd/mm/yyyy HH:mm in the service's zone, written by hand from the service's
 * RFC 3339 strings, whatever the browser's locale and zone; times typed in are read in the
 * service's zone too. Plain JS (a module: its own scope), no library, no build step. */
const $ = (id) => document.getElementById(id);
const on = (id, ev, fn) => $(id).addEventListener(ev, fn);
const BASE = new URL('../', location.href).href; // the service's root: this page is BASE + 'admin/'
const API = BASE + 'admin/v1/';
const KEY = 'thamdo-admin-token';
const LKEY = 'thamdo-admin-lang';
const ss = sessionStorage;
// The service's limits: TEXT_SLUG_MAX (src/text.h), POLL_TEXT_MAX and POLL_OPTIONS_* (src/poll.h).
const SLUG_MAX = 64;
const TEXT_MAX = 500; // counted by the service in characters (code points)
const OPTIONS_MIN = 2;
const OPTIONS_MAX = 50;
const COUNT_MAX = 999999999999; // largest base the form takes (12 digits)

// ------------------------------------------------------------------------------- texts
const TEXT = {
  // The other Vietnamese texts are those of admin.html (data-t), read at start.
  vi: {
    tools: 'Công cụ', needToken: 'Hãy dán mã truy cập.',
    badToken: 'Mã truy cập không đúng. Hãy kiểm tra lại rồi thử lần nữa.',
    expired: 'Máy chủ không còn chấp nhận mã truy cập này. Hãy đăng nhập lại.',
    loggedOut: 'Bạn đã đăng xuất.',
    optLabel: (n) => `Nhãn phương án ${n}`, optId: (n) => `Mã phương án ${n}`,
    optCode: (id) => `Mã: ${id}`, optNew: 'Phương án mới',
    up: '↑', down: '↓', upN: (n) => `Chuyển phương án ${n} lên`, downN: (n) => `Chuyển phương án ${n} xuống`,
    remove: 'Bỏ', removeN: (n) => `Bỏ phương án ${n}`, undo: 'Hoàn tác', undoN: (n) => `Giữ lại phương án ${n}`,
    willRemove: 'Sẽ bỏ khi lưu.', moved: (l, n) => `Đã chuyển “${l}” tới vị trí ${n}.`,
    created: (id) => `Đã tạo cuộc thăm dò “${id}”. Mã nhúng vào trang ở ngay bên dưới.`,
    fixFields: 'Một số ô chưa hợp lệ, hãy xem thông báo ngay dưới từng ô.',
    noChanges: 'Không có thay đổi nào để lưu.',
    st_open: 'Đang mở', st_upcoming: 'Sắp mở', st_closed: 'Đã đóng', yes: 'Có', no: 'Không',
    close: 'Đóng bình chọn', reopen: 'Mở lại bình chọn', archive: 'Lưu trữ', restore: 'Khôi phục',
    did_close: 'Đã đóng bình chọn.', did_reopen: 'Đã mở lại bình chọn.',
    did_archive: 'Đã lưu trữ: bạn đọc không còn thấy cuộc thăm dò này, các phiếu vẫn được giữ.',
    did_restore: 'Đã khôi phục cuộc thăm dò.', saved: 'Đã lưu thay đổi.',
    ask_close: 'Đóng bình chọn?',
    ask_close_text: 'Bạn đọc sẽ không bình chọn được nữa. Các phiếu và kết quả vẫn được giữ; bạn có thể mở lại sau.',
    ask_archive: 'Lưu trữ cuộc thăm dò?',
    ask_archive_text: 'Cuộc thăm dò sẽ biến mất khỏi trang của bạn đọc. Các phiếu vẫn được giữ; bạn có thể khôi phục sau.',
    closedByTime: (w) => `Đã hết hạn bình chọn lúc ${w}. Muốn mở lại, hãy đổi ngày đóng ở phần sửa bên dưới.`,
    notYetOpen: (w) => `Bạn đọc bình chọn được từ ${w}.`,
    archivedNote: 'Cuộc thăm dò đang được lưu trữ: bạn đọc không thấy nó, mã nhúng chỉ hiện thông báo “không tìm thấy”.',
    stats: (v, p, d, c) => `${num(v)} phiếu của ${num(p)} người bình chọn; ${num(d)} lần bình chọn lặp bị từ chối; ${num(c)} lần đổi lựa chọn.`,
    span: (a, b) => ` Phiếu đầu tiên: ${a}; phiếu gần nhất: ${b}.`,
    noVotes: 'Chưa có phiếu nào.', nVotes: (n) => `${num(n)} phiếu`,
    barsTitle: 'Số phiếu của từng phương án', lineTitle: 'Số phiếu theo thời gian',
    option: 'Phương án', percent: 'Tỷ lệ', time: 'Thời điểm', date: 'Ngày', downloaded: (n) => `Đã tải ${n}.`,
    maxShort: 'Số lựa chọn tối đa', opens: 'Mở từ', unset: 'Không đặt',
    visShort: 'Ai xem kết quả', changeShort: 'Đổi lựa chọn', version: 'Phiên bản',
    updated: 'Cập nhật lúc', network: 'Không kết nối được tới máy chủ. Hãy thử lại.',
    copied: 'Đã chép mã vào bộ nhớ tạm; hãy dán vào trang.', previewTitle: 'Xem trước hộp thăm dò',
    copyByHand: 'Trình duyệt không cho chép tự động: đoạn mã đã được chọn sẵn, hãy bấm Ctrl+C (hoặc ⌘+C).',
    zoneHelp: (z) => `Ngày viết theo dạng ngày/tháng/năm, giờ theo dạng 24 giờ (ví dụ 31/12/2026 và 18:30), theo giờ ${z}. Bỏ trống giờ: mở từ 00:00, đóng lúc 23:59.`,
    textLeft: (n) => `Tối đa ${num(TEXT_MAX)} ký tự: còn ${num(n)}.`,
    textOver: (n) => `Tối đa ${num(TEXT_MAX)} ký tự: đang thừa ${num(n)}.`,
    // field checks
    needId: 'Hãy nhập mã cuộc thăm dò.',
    slugBad: `Chỉ dùng chữ thường không dấu (a–z), chữ số và dấu gạch ngang, tối đa ${SLUG_MAX} ký tự.`,
    needQuestion: 'Hãy nhập câu hỏi.', needLabel: 'Hãy nhập nhãn cho phương án này.',
    tooLong: `Dài quá: tối đa ${TEXT_MAX} ký tự.`,
    badChars: 'Có ký tự không dùng được ở đây; hãy gõ lại đoạn này.',
    dupId: 'Trùng mã với một phương án ở trên.', needOptId: 'Hãy nhập mã cho phương án này.',
    fewOptions: `Cần ít nhất ${OPTIONS_MIN} phương án.`, manyOptions: `Tối đa ${OPTIONS_MAX} phương án.`,
    maxBad: (n) => `Hãy nhập một số từ 1 đến ${n} (số phương án).`,
    dateBad: 'Ngày không hợp lệ: hãy viết theo dạng ngày/tháng/năm, ví dụ 31/12/2026.',
    timeBad: 'Giờ không hợp lệ: hãy viết theo dạng giờ:phút (24 giờ), ví dụ 18:30.',
    needDate: 'Hãy nhập cả ngày.', closesBefore: 'Thời điểm đóng phải sau thời điểm mở.',
    idFixed: 'Mã không đổi được; hãy tạo cuộc thăm dò mới.', badValue: 'Giá trị này không dùng được.',
    hasVotes: 'Không bỏ được phương án này vì đã có người bình chọn. Hãy bấm “Hoàn tác” để giữ lại.',
    err_poll_exists: 'Đã có một cuộc thăm dò với mã này; hãy chọn mã khác.',
    err_option_has_votes: 'Một phương án đã có người bình chọn nên không bỏ được (xem thông báo cạnh phương án đó).',
    err_conflict: 'Cuộc thăm dò vừa được người khác sửa. Hãy làm mới rồi thử lại.',
    err_version_mismatch: 'Cuộc thăm dò đã được sửa ở nơi khác sau khi bạn mở nó, nên thay đổi của bạn chưa được lưu. Hãy tải lại trang để xem bản mới rồi sửa lại.',
    err_poll_not_found: 'Không tìm thấy cuộc thăm dò này.',
    err_store_unavailable: 'Kho dữ liệu tạm thời không phản hồi. Hãy thử lại sau giây lát.',
    err_range_too_large: 'Khoảng thời gian quá dài để gom theo giờ; hãy gom theo ngày.',
    err_unknown_site: 'Không tìm thấy trang này trong cấu hình bộ đếm.',
    // visitor counter
    unknownSite: (s) => `Không tìm thấy trang “${s}” trong cấu hình bộ đếm. Hãy hỏi người quản trị hệ thống mã đúng của trang.`,
    f_today: 'Hôm nay', f_yesterday: 'Hôm qua', f_this_week: 'Tuần này', f_this_month: 'Tháng này',
    f_total: 'Tất cả', f_online: 'Đang truy cập',
    visitsS: 'Lượt truy cập', visitorsS: 'Người truy cập', botsS: 'Truy cập của máy (bot)',
    month: 'Tháng', year: 'Năm', monthsTitle: 'Theo tháng', yearsTitle: 'Theo năm',
    visitsChart: 'Lượt truy cập theo ngày',
    vsum: (a, b, v, r) => `Từ ${a} đến ${b}: ${num(v)} lượt truy cập của bạn đọc; ${num(r)} lượt của máy (bot), không tính vào bộ đếm.`,
    noVisits: 'Chưa có lượt truy cập nào trong khoảng này.',
    countBad: 'Hãy nhập một số nguyên không âm, ví dụ 1.777.782 (tối đa 12 chữ số).',
    ask_bases: 'Lưu số liệu chuyển sang?',
    ask_bases_text: 'Bộ đếm trên trang của bạn đọc đổi ngay sau khi lưu:',
    none: 'không có', saveBasesOk: 'Lưu', basesSaved: 'Đã lưu số liệu chuyển sang; bộ đếm trên trang đã được cập nhật.',
    // reset, integrity, audit log
    ask_reset: 'Đặt lại kết quả?',
    ask_reset_text: 'Mọi phiếu của cuộc thăm dò này sẽ bị xoá vĩnh viễn: số phiếu, người đã bình chọn, số liệu theo thời gian và độ tin cậy. Bạn đọc sẽ bình chọn lại được từ đầu. Không hoàn tác được.',
    resetNext: 'Tiếp tục', ask_reset2: 'Xác nhận lần cuối',
    ask_reset2_text: (id) => `Để xác nhận, hãy gõ mã cuộc thăm dò “${id}” vào ô dưới đây.`,
    typeId: 'Mã cuộc thăm dò', resetOk: 'Xoá mọi phiếu', did_reset: 'Đã đặt lại kết quả: cuộc thăm dò bắt đầu lại từ 0 phiếu.',
    err_confirmation_required: 'Mã gõ vào không khớp với mã cuộc thăm dò; kết quả chưa bị đặt lại.',
    ig_ballots: 'Phiếu được tính', ig_dup: 'Bình chọn lặp bị từ chối', ig_limited: 'Bị từ chối vì gửi quá nhiều',
    ig_challenged: 'Phải giải thử thách', ig_solved: 'Giải được thử thách',
    igShares: (n, a, b, c) => `${num(n)} nhóm địa chỉ đã bình chọn. Nhóm gửi nhiều nhất chiếm ${pct(a)} số phiếu; 5 nhóm nhiều nhất: ${pct(b)}; 10 nhóm nhiều nhất: ${pct(c)}.`,
    igNone: 'Chưa có số liệu về độ tin cậy cho cuộc thăm dò này.',
    igFlags: (list, m) => `Giờ có số phiếu cao bất thường (ít nhất 5 lần trung vị ${num(m)} phiếu/giờ): ${list}.`,
    igHour: 'Giờ', igFlagged: 'Bất thường',
    act_poll_create: 'Tạo cuộc thăm dò', act_poll_update: 'Sửa cuộc thăm dò', act_poll_close: 'Đóng bình chọn',
    act_poll_reopen: 'Mở lại bình chọn', act_poll_archive: 'Lưu trữ', act_poll_restore: 'Khôi phục',
    act_poll_reset: 'Đặt lại kết quả', act_visits_base: 'Chuyển số liệu bộ đếm',
  },
  en: {
    title: 'Polls – Editors’ dashboard', tools: 'Tools', logout: 'Log out', counter: 'Visitor counter',
    loginTitle: 'Log in', token: 'Access token', login: 'Log in',
    tokenHelp: 'Paste your token. It stays in this browser tab only and is cleared when you log out or close the tab.',
    needToken: 'Please paste your access token.',
    badToken: 'This access token is not valid. Check it and try again.',
    expired: 'The server no longer accepts this token. Please log in again.',
    loggedOut: 'You are logged out.',
    polls: 'Polls', refresh: 'Refresh', newPoll: 'New poll',
    id: 'Id', question: 'Question', state: 'State', archived: 'Archived', closes: 'Closes',
    voters: 'Voters', votes: 'Votes', noPolls: 'There are no polls yet.',
    back: '← Back to the list', pollId: 'Poll id',
    slugHelp: `Lowercase a–z, digits and hyphens, at most ${SLUG_MAX} characters; made from the question, you may change it. It cannot be changed once created.`,
    options: 'Options', optHelp: 'Leave an option id empty to make it from the label.',
    optEditHelp: 'Existing options keep their ids. An option that has votes cannot be removed.',
    optLabel: (n) => `Label of option ${n}`, optId: (n) => `Id of option ${n}`,
    optCode: (id) => `Id: ${id}`, optNew: 'New option',
    up: '↑', down: '↓', upN: (n) => `Move option ${n} up`, downN: (n) => `Move option ${n} down`,
    remove: 'Remove', removeN: (n) => `Remove option ${n}`, undo: 'Undo', undoN: (n) => `Keep option ${n}`,
    willRemove: 'Removed when you save.', moved: (l, n) => `Moved “${l}” to position ${n}.`,
    addOption: '+ Add an option',
    maxChoices: 'Each reader may choose at most (options)',
    maxHelp: '1: a single choice; more than 1: readers may tick several options.',
    schedule: 'Schedule (optional)', opensDate: 'Opening date', opensTime: 'Opening time',
    closesDate: 'Closing date', closesTime: 'Closing time',
    visibility: 'Who can see the results',
    vis_always: 'Everyone, at any time', vis_after_vote: 'Only readers who voted',
    vis_after_close: 'Everyone, once closed', vis_never: 'Not public',
    allowChange: 'Let readers change their choice after voting', create: 'Create the poll',
    save: 'Save changes', discard: 'Discard unsaved changes', cancel: 'Cancel',
    created: (id) => `Poll “${id}” created. The embed code is right below.`,
    fixFields: 'Some fields need fixing: see the notes under them.',
    noChanges: 'There is nothing to save.',
    st_open: 'Open', st_upcoming: 'Upcoming', st_closed: 'Closed', yes: 'Yes', no: 'No',
    close: 'Close voting', reopen: 'Reopen voting', archive: 'Archive', restore: 'Restore',
    did_close: 'Voting closed.', did_reopen: 'Voting reopened.',
    did_archive: 'Archived: hidden from readers, votes kept.',
    did_restore: 'Poll restored.', saved: 'Changes saved.',
    ask_close: 'Close voting?',
    ask_close_text: 'Readers will no longer be able to vote. Votes and results are kept; you can reopen it later.',
    ask_archive: 'Archive this poll?',
    ask_archive_text: 'The poll disappears from the readers’ pages. Votes are kept; you can restore it later.',
    closedByTime: (w) => `Voting ended at ${w}. To reopen it, change the closing date in the form below.`,
    notYetOpen: (w) => `Readers can vote from ${w}.`,
    archivedNote: 'This poll is archived: readers do not see it, and the embed codes show “not found”.',
    embedTitle: 'Embed code', embedHelp: 'Paste one of the two codes below into the web page, where the poll should appear.',
    codeLang: 'Language of the poll box', codeWidget: 'Embed code (recommended)',
    codeWidgetHelp: 'The poll appears inside the page, in the page’s font.',
    copyWidget: 'Copy the embed code', codeIframe: 'Frame code (iframe)',
    codeIframeHelp: 'For pages that do not allow JavaScript; readers can still vote.',
    copyIframe: 'Copy the frame code', preview: 'Preview', previewTitle: 'Preview of the poll box',
    previewHelp: 'The real poll, as readers see it; voting is disabled in this preview.',
    copied: 'Code copied; paste it into the page.',
    copyByHand: 'The browser does not allow copying here: the code is selected, press Ctrl+C (or ⌘+C).',
    results: 'Results', csvTotals: 'Download CSV', csvSeries: 'Download CSV over time',
    asTable: 'Show as a table', overTime: 'Votes over time', bucket: 'Group by',
    byDay: 'Day', byHour: 'Hour', lines: 'Show', perOption: 'Each option',
    total: 'Total', edit: 'Edit the poll',
    stats: (v, p, d, c) => `${pl(v, 'vote')} from ${pl(p, 'voter')}; ${pl(d, 'repeated ballot')} refused; ${pl(c, 'changed choice')}.`,
    span: (a, b) => ` First vote: ${a}; latest vote: ${b}.`,
    noVotes: 'No votes yet.', nVotes: (n) => pl(n, 'vote'),
    barsTitle: 'Votes per option', lineTitle: 'Votes over time',
    option: 'Option', percent: 'Share', time: 'Time', date: 'Date', downloaded: (n) => `Downloaded ${n}.`,
    maxShort: 'Maximum choices', opens: 'Opens', unset: 'Not set',
    visShort: 'Results visible to', changeShort: 'Changing a choice', version: 'Version',
    updated: 'Updated', network: 'Could not reach the server. Please try again.',
    zoneHelp: (z) => `Dates as day/month/year, times on the 24-hour clock (e.g. 31/12/2026 and 18:30), in ${z} time. No time: opens at 00:00, closes at 23:59.`,
    textLeft: (n) => `At most ${num(TEXT_MAX)} characters: ${num(n)} left.`,
    textOver: (n) => `At most ${num(TEXT_MAX)} characters: ${num(n)} too many.`,
    needId: 'Please enter the poll id.',
    slugBad: `Use lowercase a–z, digits and hyphens only, at most ${SLUG_MAX} characters.`,
    needQuestion: 'Please enter the question.', needLabel: 'Please enter a label for this option.',
    tooLong: `Too long: at most ${TEXT_MAX} characters.`,
    badChars: 'This contains characters that cannot be used; please type it again.',
    dupId: 'Same id as an option above.', needOptId: 'Please enter an id for this option.',
    fewOptions: `At least ${OPTIONS_MIN} options are needed.`, manyOptions: `At most ${OPTIONS_MAX} options.`,
    maxBad: (n) => `Enter a number from 1 to ${n} (the number of options).`,
    dateBad: 'Not a valid date: write it as day/month/year, e.g. 31/12/2026.',
    timeBad: 'Not a valid time: write it as hours:minutes (24-hour), e.g. 18:30.',
    needDate: 'Please enter the date too.', closesBefore: 'The closing time must be after the opening time.',
    idFixed: 'The id cannot be changed; create a new poll instead.', badValue: 'This value cannot be used.',
    hasVotes: 'This option cannot be removed: readers have voted for it. Press “Undo” to keep it.',
    err_poll_exists: 'A poll with this id already exists; choose another id.',
    err_option_has_votes: 'An option that has votes cannot be removed (see the note next to it).',
    err_conflict: 'Someone else changed this poll just now. Refresh and try again.',
    err_version_mismatch: 'This poll was changed elsewhere after you opened it, so your change was not saved. Reload the page to see the new version, then redo your change.',
    err_poll_not_found: 'There is no such poll.',
    err_store_unavailable: 'The data store is not answering; try again soon.',
    err_range_too_large: 'The range is too long for hourly buckets; group by day.',
    err_unknown_site: 'This site is not counted here.',
    site: 'Counted site', siteHelp: 'Each site is counted apart; the site ids are set by the system administrator.',
    showSite: 'Show', unknownSite: (s) => `There is no counted site “${s}”. Ask the system administrator for the right id.`,
    shownTitle: 'What readers see on the page', dailyTitle: 'Visits per day', csvVisits: 'Download CSV',
    range: 'Period', days30: '30 days', days90: '90 days', days365: '1 year', allDays: 'All',
    totalsTitle: 'Totals per month and per year', totalsHelp: 'Counted here, without the figures taken over from the old counter.',
    f_today: 'Today', f_yesterday: 'Yesterday', f_this_week: 'This week', f_this_month: 'This month',
    f_total: 'Total', f_online: 'Online now',
    visitsS: 'Visits', visitorsS: 'Distinct visitors', botsS: 'Robot requests',
    month: 'Month', year: 'Year', monthsTitle: 'Per month', yearsTitle: 'Per year',
    visitsChart: 'Visits per day',
    vsum: (a, b, v, r) => `From ${a} to ${b}: ${pl(v, 'visit')} by readers; ${pl(r, 'robot request')}, not counted.`,
    noVisits: 'No visits in this period yet.',
    basesTitle: 'Take over an old counter',
    basesHelp: 'Enter the figures the old counter shows: they are added to the counts made here. Today’s, this week’s and this month’s figures apply to the current day, week and month only. Leave a field empty to drop that figure.',
    baseTotal: 'Add to “Total”', baseToday: 'Add to “Today”', baseWeek: 'Add to “This week”',
    baseMonth: 'Add to “This month”', saveBases: 'Save the figures taken over',
    countBad: 'Enter a whole number, e.g. 1777782 (at most 12 digits).',
    ask_bases: 'Save the figures taken over?',
    ask_bases_text: 'The counter on the readers’ pages changes as soon as you save:',
    none: 'none', saveBasesOk: 'Save', basesSaved: 'Figures saved; the counter on the pages is updated.',
    reset: 'Reset the results', ask_reset: 'Reset the results?',
    ask_reset_text: 'Every vote of this poll will be deleted for good: the tallies, who voted, the figures over time and the integrity figures. Readers can vote again from scratch. This cannot be undone.',
    resetNext: 'Continue', ask_reset2: 'Last confirmation',
    ask_reset2_text: (id) => `To confirm, type the poll id “${id}” in the box below.`,
    typeId: 'Poll id', resetOk: 'Delete every vote', did_reset: 'Results reset: the poll starts again from 0 votes.',
    err_confirmation_required: 'The id typed does not match the poll’s; the results were not reset.',
    integrityTitle: 'Integrity of the votes',
    integrityHelp: 'Votes refused as repeated or as too many from one network, challenges to solve and challenges solved, per hour; the share of the votes from the busiest address groups (kept hashed only, never an address).',
    ig_ballots: 'Votes counted', ig_dup: 'Repeated votes refused', ig_limited: 'Refused: too many',
    ig_challenged: 'Challenges issued', ig_solved: 'Challenges solved',
    igShares: (n, a, b, c) => `${pl(n, 'address group')} voted. The busiest cast ${pct(a)} of the votes; the busiest 5: ${pct(b)}; the busiest 10: ${pct(c)}.`,
    igNone: 'No integrity figures for this poll yet.',
    igFlags: (list, m) => `Hours with unusually many votes (at least 5 times the median of ${num(m)} votes an hour): ${list}.`,
    igHours: 'Per hour', igHour: 'Hour', igFlagged: 'Unusual',
    auditNav: 'Audit log', auditHelp: 'Every change made by an editor, newest first; the actor is the name of the access token used.',
    auditAt: 'Time', auditActor: 'Actor', auditAction: 'Action', auditTarget: 'Target', auditRequest: 'Request id',
    auditEmpty: 'No changes yet.', auditMore: 'Show older changes',
    act_poll_create: 'Created a poll', act_poll_update: 'Changed a poll', act_poll_close: 'Closed voting',
    act_poll_reopen: 'Reopened voting', act_poll_archive: 'Archived', act_poll_restore: 'Restored',
    act_poll_reset: 'Reset the results', act_visits_base: 'Counter figures taken over',
  },
};
// The service's field messages (English), as texts of the editor's language.
const FIELD_TEXT = [
  [/characters of a-z/, 'slugBad'], [/repeats the id/, 'dupId'], [/label must be 1/, 'tooLong'],
  [/question must be 1/, 'tooLong'], [/UTF-8/, 'badChars'], [/array of 2/, 'fewOptions'],
  [/whole number/, null], [/RFC 3339/, 'dateBad'], [/later than opens_at/, 'closesBefore'],
  [/cannot be changed/, 'idFixed'],
];

let lang = ss.getItem(LKEY) === 'en' ? 'en' : 'vi';
const t = (k, ...a) => { const s = TEXT[lang][k] ?? TEXT.vi[k] ?? k; return typeof s === 'function' ? s(...a) : s; };
const locale = () => (lang === 'vi' ? 'vi-VN' : 'en-GB');
const num = (n) => new Intl.NumberFormat(locale()).format(n);
const pl = (n, w) => `${num(n)} ${w}${n === 1 ? '' : 's'}`;
// Percentages come as whole numbers or with one decimal (33.3): shown as "33,3%" / "33.3%".
const pct = (p) => new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 }).format(p) + '%';
const chars = (s) => [...s].length; // code points, as the service counts

// ------------------------------------------------------------------------------- dates
// The service writes local wall times with their offset ("2026-11-28T22:05:00+07:00"): they are
// shown as written, in the service's zone, dd/mm/yyyy HH:mm whatever the browser's locale.
const p2 = (x) => String(x).padStart(2, '0');
function wallOf(s) {
  const m = /^(\d{4})-(\d\d)-(\d\d)(?:T(\d\d):(\d\d))?/.exec(s || '');
  return m && { y: +m[1], mo: +m[2], d: +m[3], H: +(m[4] || 0), M: +(m[5] || 0) };
}
const dm = (w) => `${p2(w.d)}/${p2(w.mo)}`;
const dmy = (w) => `${dm(w)}/${w.y}`;
const hm = (w) => `${p2(w.H)}:${p2(w.M)}`;
const when = (s) => { const w = wallOf(s); return w ? `${dmy(w)} ${hm(w)}` : t('unset'); };

// The service's zone (THAMDO_TIMEZONE), learnt from its answers; typed times are read in it.
let zone = null;
function learnZone(z) {
  if (zone || !z) return;
  try { new Intl.DateTimeFormat('en', { timeZone: z }); zone = z; } catch { /* unknown to this browser */ }
  if (zone) for (const f of forms) f.zoneHelp();
}
async function needZone() {
  if (!zone) learnZone((await api('GET', 'visits?from=' + encodeURIComponent(new Date().toISOString().slice(0, 19) + 'Z'))).time_zone);
}
let zoneAsked = null;
// Asks once in the background as soon as the editor is logged in (typed times wait for it anyway).
function knowZone() {
  if (token && !zone && !zoneAsked) zoneAsked = needZone().catch(() => { /* asked again later */ }).finally(() => { zoneAsked = null; });
}
// Minutes east of UTC in the service's zone at ms (the browser's zone until the service's is known).
function offsetAt(ms) {
  if (!zone) return -new Date(ms).getTimezoneOffset();
  const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
    .formatToParts(ms).find((x) => x.type === 'timeZoneName').value; // "GMT+07:00", "GMT"
  const m = /([+-])(\d\d):?(\d\d)?/.exec(name);
  return m ? (m[1] === '-' ? -1 : 1) * (m[2] * 60 + Number(m[3] || 0)) : 0;
}
const offsetText = (off) => (off ? (off > 0 ? '+' : '-') + p2(Math.floor(Math.abs(off) / 60)) + ':' + p2(Math.abs(off) % 60) : 'Z');
// A wall time of the service's zone as RFC 3339 with the zone's offset at that time.
function rfc3339(w) {
  const local = Date.UTC(w.y, w.mo - 1, w.d, w.H, w.M, w.S || 0);
  const off = offsetAt(local - offsetAt(local) * 60000);
  return `${String(w.y).padStart(4, '0')}-${p2(w.mo)}-${p2(w.d)}T${p2(w.H)}:${p2(w.M)}:${p2(w.S || 0)}${offsetText(off)}`;
}
function parseDate(s) {
  const m = /^\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})\s*$/.exec(s);
  if (!m) return null;
  const [d, mo, y] = [+m[1], +m[2], +m[3]], x = new Date(Date.UTC(y, mo - 1, d));
  return y >= 1970 && x.getUTCMonth() === mo - 1 && x.getUTCDate() === d ? { y, mo, d } : null;
}
function parseTime(s) {
  const m = /^\s*(\d{1,2})(?:\s*[:hH.]\s*(\d\d)?)?\s*$/.exec(s);
  return m && +m[1] < 24 && +(m[2] || 0) < 60 ? { H: +m[1], M: +(m[2] || 0) } : null;
}
// Monday-first ISO week of a date "YYYY-MM-DD": "YYYY-Www" (as the service keys week bases).
function isoWeek(date) {
  const thursday = (x) => { x.setUTCDate(x.getUTCDate() + 3 - ((x.getUTCDay() + 6) % 7)); return x; };
  const [y, m, d] = date.split('-').map(Number), th = thursday(new Date(Date.UTC(y, m - 1, d)));
  const first = thursday(new Date(Date.UTC(th.getUTCFullYear(), 0, 4))); // week 1 holds 4 January
  return `${th.getUTCFullYear()}-W${p2(1 + Math.round((th - first) / (7 * 86400000)))}`;
}

// ------------------------------------------------------------------------------- DOM helpers
function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  e.append(...kids.filter((x) => x != null));
  return e;
}
function s(tag, attrs, text) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text != null) e.textContent = text;
  return e;
}
function table(caption, head, rows) {
  return h('table', {}, h('caption', { text: caption }),
    h('thead', {}, h('tr', {}, ...head.map((c, i) => h('th', { class: i ? 'num' : null, scope: 'col', text: c })))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c, i) => h(i ? 'td' : 'th', i ? { class: 'num', text: c } : { scope: 'row', text: c }))))));
}
const COLORS = ['#1f5fa8', '#c2410c', '#15803d', '#a21caf', '#a16207', '#0e7490', '#be123c', '#57534e'];
const color = (i) => COLORS[i % COLORS.length];
const say = (msg) => { $('status').textContent = msg || ''; };
function alertMsg(msg) { const a = $('alert'); a.textContent = msg || ''; a.hidden = !msg; }
const errText = (e) => (e.code && TEXT[lang]['err_' + e.code] ? t('err_' + e.code) : e.message);

// ------------------------------------------------------------------------------- API
let token = ss.getItem(KEY);
async function api(method, path, body, raw, extra = {}) {
  const sent = token;
  const headers = { ...extra, Authorization: 'Bearer ' + sent };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(API + path, { method, headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw Object.assign(new Error(t('network')), { status: 0 });
  }
  if (res.status === 401) {
    if (token === sent) logout(t(ss.getItem(KEY) ? 'expired' : 'badToken')); // once for parallel calls
    throw Object.assign(new Error('unauthorized'), { status: 401 });
  }
  if (raw && res.ok) return res;
  let data = null;
  try { data = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) {
    const e = (data && data.error) || {};
    throw Object.assign(new Error(e.message || `HTTP ${res.status}`), { status: res.status, code: e.code, fields: e.fields });
  }
  return data;
}
const polls = (id, rest = '') => 'polls/' + encodeURIComponent(id) + rest;
// Runs fn with btn disabled; shows errors (a 401 is handled by api()).
async function act(btn, fn) {
  if (btn) btn.disabled = true;
  try { await fn(); } catch (e) { if (e.status !== 401) alertMsg(errText(e)); } finally { if (btn) btn.disabled = false; }
}

// ------------------------------------------------------------------------------- confirmation
// Asks in the page's own dialog; resolves true when the editor confirms. Cancel is the default
// button; Escape cancels; focus goes back where it was.
function ask(title, text, okLabel, danger) {
  const d = $('confirm'), back = document.activeElement;
  $('cf-title').textContent = title;
  $('cf-text').replaceChildren(...(Array.isArray(text) ? text : [h('p', { text })]));
  $('cf-ok').textContent = okLabel;
  $('cf-ok').className = danger ? 'danger' : 'primary';
  d.returnValue = '';
  d.showModal();
  $('cf-cancel').focus();
  return new Promise((resolve) => {
    d.addEventListener('close', () => { back?.focus?.(); resolve(d.returnValue === 'ok'); }, { once: true });
  });
}

// ------------------------------------------------------------------------------- views and routing
const cur = { view: null, polls: null, poll: null, res: null, integrity: null, audit: null, note: '', created: null };
function show(view, focus) {
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== 'v-' + view;
  $('logout').hidden = $('nav-polls').hidden = $('nav-visits').hidden = $('nav-audit').hidden = !token;
  knowZone();
  for (const [id, here] of [['nav-polls', view === 'list'], ['nav-visits', view === 'visits'], ['nav-audit', view === 'audit']]) {
    if (here) $(id).setAttribute('aria-current', 'page'); else $(id).removeAttribute('aria-current');
  }
  if (focus && cur.view !== view) $('h-' + view).focus();
  cur.view = view;
}
function route(focus = true) {
  alertMsg('');
  say(cur.note);
  cur.note = '';
  if (!token) return show('login', focus);
  const m = /^#poll\/([a-z0-9-]{1,64})$/.exec(location.hash);
  const v = /^#visits(?:\/([a-z0-9-]{1,64}))?$/.exec(location.hash);
  if (location.hash === '#new') { show('new', focus); if (!newForm.list.children.length) newForm.reset(); return; }
  if (m) return openPoll(m[1], focus);
  if (v) return openVisits(v[1], focus);
  if (location.hash === '#audit') return openAudit(focus);
  return openList(focus);
}
function logout(msg) {
  ss.removeItem(KEY);
  token = null;
  Object.assign(cur, { polls: null, poll: null, res: null, integrity: null, audit: null });
  Object.assign(vis, { hist: null, shown: null });
  $('polls').tBodies[0].replaceChildren();
  $('audit').tBodies[0].replaceChildren();
  show('login', true);
  alertMsg(msg);
}

// ------------------------------------------------------------------------------- login
on('login-form', 'submit', async (ev) => {
  ev.preventDefault();
  const v = $('token').value.trim();
  if (!v) { alertMsg(t('needToken')); $('token').focus(); return; }
  token = v;
  try {
    const data = await api('GET', 'polls');
    ss.setItem(KEY, v);
    $('token').value = '';
    say('');
    alertMsg('');
    cur.polls = data.polls;
    if (location.hash) route(true); else { renderList(); show('list', true); }
  } catch (e) {
    if (e.status !== 401) { token = null; alertMsg(errText(e)); }
    $('token').focus();
  }
});
on('logout', 'click', () => { logout(''); say(t('loggedOut')); });
on('lang', 'click', () => { lang = lang === 'vi' ? 'en' : 'vi'; ss.setItem(LKEY, lang); applyLang(); });

// ------------------------------------------------------------------------------- list
async function openList(focus) {
  show('list', focus);
  await act(null, async () => { cur.polls = (await api('GET', 'polls')).polls; renderList(); });
}
function renderList() {
  const cell = (key, attrs, ...kids) => h('td', { 'data-label': t(key), ...attrs }, ...kids);
  const rows = (cur.polls || []).map((p) => h('tr', { class: p.archived ? 'is-archived' : null },
    cell('id', { class: 'pid' }, h('a', { href: '#poll/' + p.id, text: p.id })),
    cell('question', { class: 'q', text: p.question }),
    cell('state', {}, h('span', { class: 'badge ' + p.state, text: t('st_' + p.state) })),
    cell('closes', { text: p.closes_at ? when(p.closes_at) : '—' }),
    cell('archived', { text: t(p.archived ? 'yes' : 'no') }),
    cell('voters', { class: 'num', text: num(p.voters) }),
    cell('votes', { class: 'num', text: num(p.votes) })));
  $('polls').tBodies[0].replaceChildren(...rows);
  $('empty').hidden = rows.length > 0;
}
on('refresh', 'click', (e) => act(e.currentTarget, async () => {
  cur.polls = (await api('GET', 'polls')).polls; renderList();
}));

// ------------------------------------------------------------------------------- slugs
// An id made from a text: diacritics folded to ASCII (đ → d), words joined by '-', cut after the
// last whole word that fits in max (mid-word only when the first word alone is longer).
function slug(x, max = SLUG_MAX) {
  const full = x.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[đĐ]/g, 'd')
    .toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  if (full.length <= max) return full;
  const cut = full.lastIndexOf('-', max);
  return cut > 0 ? full.slice(0, cut) : full.slice(0, max);
}
// Fills dst from src until the editor types in dst.
function autoSlug(src, dst) {
  src.addEventListener('input', () => { if (dst.dataset.manual !== '1') dst.value = slug(src.value); });
  dst.addEventListener('input', () => { dst.dataset.manual = dst.value ? '1' : ''; });
}

// ------------------------------------------------------------------------------- the poll form
// One class for "new" (#new-form) and "edit" (#edit-form). Each field has a check mirroring the
// service's; a field shown wrong is checked again at every change of the form, so its error
// goes as soon as it is fixed (an error only the service can know goes when the field changes).
let rowSeq = 0;
const forms = [];
class PollForm {
  constructor(mode) {
    this.mode = mode;
    this.p = mode === 'new' ? 'n-' : 'x-';
    this.form = $(mode + '-form');
    const frag = $('t-poll-form').content.cloneNode(true);
    for (const e of frag.querySelectorAll('[data-only]')) if (e.dataset.only !== mode) e.remove();
    for (const e of frag.querySelectorAll('[id], [for], [aria-describedby]')) {
      for (const a of ['id', 'for', 'aria-describedby']) {
        const v = e.getAttribute(a);
        if (v) e.setAttribute(a, v.replaceAll('@', this.p));
      }
    }
    this.form.append(frag);
    this.list = this.el('options');
    this.bad = new Map(); // field key -> {server, value}
    this.poll = null; // edit: the poll as stored
    this.votes = new Map(); // edit: votes per option id
    this.el('add').addEventListener('click', () => { this.addRow(null, true); this.recheck(); });
    this.form.addEventListener('input', () => this.recheck());
    this.form.addEventListener('change', () => this.recheck());
    this.el('question').addEventListener('input', () => this.count());
    this.form.addEventListener('submit', (ev) => { ev.preventDefault(); this.submit(); });
    if (mode === 'new') autoSlug(this.el('question'), this.el('id'));
    else this.el('undo-all').addEventListener('click', () => { if (this.poll) this.fill(this.poll, this.votes); say(''); });
    forms.push(this);
    this.zoneHelp();
  }
  el(name) { return $(this.p + name); }
  rows() { return [...this.list.children]; }
  active() { return this.rows().filter((li) => !li.opt.removed); }
  optId(li) { const o = li.opt; return o.id ?? (o.idInput.value.trim() || slug(o.label.value)); }
  zoneHelp() {
    const z = zone ? `${zone} (UTC${offsetText(offsetAt(Date.now())).replace('Z', '')})` : '';
    this.el('when-help').textContent = t('zoneHelp', z || (lang === 'vi' ? 'của hệ thống' : 'the service’s'));
  }
  count() {
    const left = TEXT_MAX - chars(this.el('question').value.trim());
    this.el('question-help').textContent = left >= 0 ? t('textLeft', left) : t('textOver', -left);
  }

  // option rows: existing options keep their id (o), new ones get an id field filled from the label
  addRow(o, focus) {
    const n = ++rowSeq, pre = this.p + 'o' + n;
    const label = h('input', { id: pre + '-l', name: 'label', autocomplete: 'off' });
    label.value = o ? o.label : '';
    const lerr = h('p', { class: 'ferr', id: pre + '-el' });
    const rerr = h('p', { class: 'ferr orow', id: pre + '-er' });
    label.setAttribute('aria-describedby', `${lerr.id} ${rerr.id}`);
    let idInput = null, ierr = null, idBox;
    if (o) {
      idBox = h('p', { class: 'oid', id: pre + '-id' });
    } else {
      idInput = h('input', { id: pre + '-i', name: 'option-id', maxlength: SLUG_MAX, autocomplete: 'off', spellcheck: 'false' });
      ierr = h('p', { class: 'ferr', id: pre + '-ei' });
      idInput.setAttribute('aria-describedby', ierr.id);
      autoSlug(label, idInput);
      idBox = h('div', { class: 'field' }, h('label', { for: idInput.id }), idInput, ierr);
    }
    const btn = (cls, fn) => h('button', { type: 'button', class: cls, onclick: fn });
    const li = h('li', { class: 'opt', 'data-option': o ? o.id : null },
      h('div', { class: 'field' }, h('label', { for: label.id }), label, lerr),
      idBox,
      h('div', { class: 'obtns' }, btn('up', () => this.move(li, -1)), btn('down', () => this.move(li, 1)),
        btn('remove', () => this.toggle(li))),
      h('p', { class: 'gone help', text: '' }), rerr);
    li.opt = { n, id: o ? o.id : null, removed: false, label, idInput, lerr, ierr, rerr };
    this.list.append(li);
    this.renumber();
    if (focus) label.focus();
    return li;
  }
  move(li, by) {
    const to = by < 0 ? li.previousElementSibling : li.nextElementSibling?.nextElementSibling;
    if (by < 0 && !to) return;
    this.list.insertBefore(li, to || null);
    this.renumber();
    const b = li.querySelector(by < 0 ? '.up' : '.down');
    (b.disabled ? li.querySelector(by < 0 ? '.down' : '.up') : b).focus();
    say(t('moved', li.opt.label.value.trim() || t('optNew'), this.rows().indexOf(li) + 1));
    this.recheck();
  }
  // New rows go at once; existing options are marked, kept in place until saved (and undoable).
  toggle(li) {
    const o = li.opt;
    if (!o.id) { const next = li.nextElementSibling || li.previousElementSibling; li.remove(); this.renumber(); (next?.querySelector('.remove') || this.el('add')).focus(); this.recheck(); return; }
    o.removed = !o.removed;
    li.classList.toggle('removed', o.removed);
    o.label.disabled = o.removed;
    this.renumber();
    li.querySelector('.remove').focus();
    this.recheck();
  }
  renumber() {
    const rows = this.rows(), active = this.active().length;
    rows.forEach((li, i) => {
      const o = li.opt, n = i + 1;
      li.querySelector(`label[for="${o.label.id}"]`).textContent = t('optLabel', n);
      if (o.idInput) li.querySelector(`label[for="${o.idInput.id}"]`).textContent = t('optId', n);
      else {
        const v = this.votes.get(o.id);
        li.querySelector('.oid').textContent = t('optCode', o.id) + (v === undefined ? '' : ' · ' + t('nVotes', v));
      }
      const [up, down, rm] = li.querySelectorAll('.obtns button');
      up.textContent = t('up'); up.setAttribute('aria-label', t('upN', n)); up.disabled = i === 0;
      down.textContent = t('down'); down.setAttribute('aria-label', t('downN', n)); down.disabled = i === rows.length - 1;
      rm.textContent = t(o.removed ? 'undo' : 'remove');
      rm.setAttribute('aria-label', t(o.removed ? 'undoN' : 'removeN', n));
      rm.disabled = !o.removed && active <= OPTIONS_MIN;
      li.querySelector('.gone').textContent = o.removed ? t('willRemove') : '';
    });
  }

  // the fields, their checks and what "changed" means for each
  whenOf(which) {
    const d = this.el(which + '-d').value.trim(), tm = this.el(which + '-t').value.trim();
    if (!d && !tm) return { w: null };
    if (!d) return { msg: t('needDate') };
    const date = parseDate(d);
    if (!date) return { msg: t('dateBad') };
    const time = tm ? parseTime(tm) : which === 'opens' ? { H: 0, M: 0 } : { H: 23, M: 59, S: 59 };
    if (!time) return { msg: t('timeBad') };
    return { w: { ...date, ...time } };
  }
  checkCloses() {
    const c = this.whenOf('closes'), o = this.whenOf('opens');
    if (c.msg || !c.w || !o.w) return c.msg || '';
    const ms = (w) => Date.UTC(w.y, w.mo - 1, w.d, w.H, w.M, w.S || 0);
    return ms(c.w) > ms(o.w) ? '' : t('closesBefore');
  }
  fields() {
    const f = [];
    const add = (key, inputs, err, check, value) =>
      f.push({ key, inputs, err, check, value: value || (() => inputs.map((i) => i.value).join('\n')) });
    const text = (v, empty) => { v = v.trim(); return !v ? t(empty) : chars(v) > TEXT_MAX ? t('tooLong') : ''; };
    if (this.mode === 'new') {
      add('id', [this.el('id')], this.el('e-id'), () => {
        const v = this.el('id').value.trim();
        return !v ? t('needId') : /^[a-z0-9-]{1,64}$/.test(v) ? '' : t('slugBad');
      });
    }
    add('question', [this.el('question')], this.el('e-question'), () => text(this.el('question').value, 'needQuestion'));
    add('options', [], this.el('e-options'), () => {
      const n = this.active().length;
      return n < OPTIONS_MIN ? t('fewOptions') : n > OPTIONS_MAX ? t('manyOptions') : '';
    }, () => String(this.active().length));
    // a new option's id may repeat neither a kept option's nor an earlier new one's
    const seen = new Set(this.active().filter((li) => li.opt.id).map((li) => li.opt.id));
    for (const li of this.rows()) {
      const o = li.opt;
      add(o.n + ':label', [o.label], o.lerr, () => (o.removed ? '' : text(o.label.value, 'needLabel')));
      const id = o.removed || o.id ? null : this.optId(li);
      const dup = !!id && seen.has(id);
      if (id) seen.add(id);
      if (o.idInput) {
        add(o.n + ':id', [o.idInput], o.ierr, () => {
          if (!o.label.value.trim() && !o.idInput.value.trim()) return ''; // the label's error says it
          return !id ? t('needOptId') : !/^[a-z0-9-]{1,64}$/.test(id) ? t('slugBad') : dup ? t('dupId') : '';
        });
      }
      add(o.n + ':row', [], o.rerr, () => '', () => String(o.removed));
    }
    add('max_choices', [this.el('max')], this.el('e-max_choices'), () => {
      const v = this.el('max').value.trim(), n = Math.max(1, this.active().length);
      return /^\d+$/.test(v) && +v >= 1 && +v <= n ? '' : t('maxBad', n);
    });
    add('opens_at', [this.el('opens-d'), this.el('opens-t')], this.el('e-opens_at'), () => this.whenOf('opens').msg || '');
    add('closes_at', [this.el('closes-d'), this.el('closes-t')], this.el('e-closes_at'), () => this.checkCloses());
    add('results_visibility', [this.el('vis')], this.el('e-results_visibility'), () => '');
    add('allow_change', [this.el('change')], this.el('e-allow_change'), () => '', () => String(this.el('change').checked));
    return f;
  }
  mark(f, msg, server) {
    f.err.textContent = msg || '';
    for (const i of f.inputs) { if (msg) i.setAttribute('aria-invalid', 'true'); else i.removeAttribute('aria-invalid'); }
    if (msg) this.bad.set(f.key, { server, value: f.value() }); else this.bad.delete(f.key);
  }
  // Checks again every field shown wrong; the summary goes with the last error.
  recheck() {
    if (!this.bad.size) return;
    const all = this.fields(), keys = new Set(all.map((f) => f.key));
    for (const k of [...this.bad.keys()]) if (!keys.has(k)) this.bad.delete(k);
    for (const f of all) {
      const b = this.bad.get(f.key);
      if (!b || (b.server && f.value() === b.value)) continue;
      const msg = f.check();
      this.mark(f, msg, false);
    }
    if (!this.bad.size) this.el('error').hidden = true;
  }
  clearAll() {
    for (const f of this.fields()) this.mark(f, '');
    this.bad.clear();
    this.el('error').hidden = true;
  }
  general(msg) { const g = this.el('error'); g.textContent = msg; g.hidden = !msg; }
  focusField(f) {
    const li = f && !f.inputs.length && this.rows().find((x) => x.opt.rerr === f.err);
    const target = f ? f.inputs[0] || li?.querySelector('.remove') || this.el('add') : this.el('error');
    target.focus();
  }
  // Errors of a 422: paths of the body sent (options[i] are the rows sent, in order).
  serverErrors(list, sent) {
    const byKey = new Map(this.fields().map((f) => [f.key, f])), rest = [];
    let first = null;
    for (const e of list || []) {
      let key = e.path;
      const m = /^options\[(\d+)\](?:\.(id|label))?$/.exec(e.path);
      if (m) {
        const li = sent[+m[1]];
        key = !li ? 'options' : li.opt.n + ':' + (m[2] === 'label' ? 'label' : m[2] === 'id' && li.opt.idInput ? 'id' : 'row');
      }
      const hit = FIELD_TEXT.find(([re]) => re.test(e.message));
      const msg = hit ? (hit[1] ? t(hit[1]) : key === 'max_choices' ? t('maxBad', sent.length) : t('badValue')) : lang === 'en' ? e.message : t('badValue');
      const f = byKey.get(key);
      if (!f) { rest.push(`${e.path}: ${msg}`); continue; }
      this.mark(f, msg, true);
      first = first || f;
    }
    this.general([t('fixFields'), ...rest].join(' '));
    this.focusField(first);
  }
  values() {
    const wv = (which) => { const w = this.whenOf(which).w; return w ? rfc3339(w) : null; };
    return {
      question: this.el('question').value.trim(),
      options: this.active().map((li) => ({ id: this.optId(li), label: li.opt.label.value.trim() })),
      max_choices: Number(this.el('max').value),
      opens_at: wv('opens'),
      closes_at: wv('closes'),
      results_visibility: this.el('vis').value,
      allow_change: this.el('change').checked,
    };
  }
  // edit: only what differs from the poll as stored (times compared as shown, to the minute)
  changes() {
    const v = this.values(), p = this.poll, out = {};
    const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
    if (v.question !== p.question) out.question = v.question;
    if (!same(v.options, p.options.map((o) => ({ id: o.id, label: o.label })))) out.options = v.options;
    for (const k of ['max_choices', 'results_visibility', 'allow_change']) if (v[k] !== p[k]) out[k] = v[k];
    for (const k of ['opens_at', 'closes_at']) if (when(v[k]) !== when(p[k])) out[k] = v[k];
    return out;
  }
  async submit() {
    if (this.mode === 'edit' && !this.poll) return; // not loaded yet
    this.clearAll();
    const wrong = this.fields().map((f) => [f, f.check()]).filter(([, m]) => m);
    if (wrong.length) {
      for (const [f, m] of wrong) this.mark(f, m, false);
      this.general(t('fixFields'));
      this.focusField(wrong[0][0]);
      return;
    }
    const btn = this.form.querySelector('[type=submit]'), sent = this.active();
    await act(btn, async () => {
      try {
        await needZone();
        if (this.mode === 'new') {
          const body = { id: this.el('id').value.trim(), ...this.values() };
          for (const k of ['opens_at', 'closes_at']) if (body[k] === null) delete body[k];
          const p = await api('POST', 'polls', body);
          this.reset();
          cur.note = t('created', p.id);
          cur.created = p.id;
          location.hash = '#poll/' + p.id;
          return;
        }
        const body = this.changes();
        if (!Object.keys(body).length) { say(t('noChanges')); return; }
        // Only the version this form was filled from: another editor's change is never overwritten.
        cur.poll = await api('PATCH', polls(this.poll.id), body, false, { 'If-Match': `"${this.poll.version}"` });
        renderPoll();
        say(t('saved'));
        await loadResults();
        this.fill(cur.poll, resultVotes());
        reloadPreview();
      } catch (e) { this.failed(e, sent); }
    });
  }
  failed(e, sent) {
    if (e.status === 401) return;
    if (e.code === 'validation_failed') return this.serverErrors(e.fields, sent);
    if (e.code === 'poll_exists') { const f = this.fields()[0]; this.mark(f, t('err_poll_exists'), true); this.general(t('fixFields')); this.focusField(f); return; }
    if (e.code === 'option_has_votes') {
      const id = (/'([a-z0-9-]+)'/.exec(e.message) || [])[1];
      const li = this.rows().find((x) => x.opt.removed && (x.opt.id === id || (!id && this.votes.get(x.opt.id))));
      const f = li && this.fields().find((x) => x.key === li.opt.n + ':row');
      if (f) { this.mark(f, t('hasVotes'), true); this.general(t('err_option_has_votes')); this.focusField(f); return; }
    }
    this.general(errText(e));
    this.el('error').focus();
  }
  reset() {
    this.form.reset();
    this.clearAll();
    this.el('id').dataset.manual = '';
    this.list.replaceChildren();
    this.addRow(); this.addRow();
    this.el('max').value = 1;
    this.count();
  }
  fill(p, votes) {
    this.poll = p;
    this.votes = votes || new Map();
    this.clearAll();
    this.el('question').value = p.question;
    this.list.replaceChildren();
    for (const o of p.options) this.addRow(o);
    this.el('max').value = p.max_choices;
    for (const k of ['opens', 'closes']) {
      const w = wallOf(p[k + '_at']);
      this.el(k + '-d').value = w ? dmy(w) : '';
      this.el(k + '-t').value = w ? hm(w) : '';
    }
    this.el('vis').value = p.results_visibility;
    this.el('change').checked = !!p.allow_change;
    this.count();
  }
  // Texts of the current language (after a switch).
  relabel() { this.renumber(); this.count(); this.zoneHelp(); if (this.bad.size) this.recheck(); }
}
const newForm = new PollForm('new');
const editForm = new PollForm('edit');

// ------------------------------------------------------------------------------- one poll
const bucket = () => ($('bk-hour').checked ? 'hour' : 'day');
const resultVotes = () => new Map((cur.res?.options || []).map((o) => [o.id, o.votes]));
async function openPoll(id, focus) {
  const fresh = !cur.poll || cur.poll.id !== id;
  if (fresh) {
    cur.poll = null; cur.res = null;
    $('h-poll').textContent = id;
    for (const x of ['meta', 'bars', 'bars-table', 'line', 'legend', 'line-table', 'stats', 'ig-totals', 'ig-shares', 'ig-table']) $(x).replaceChildren();
    cur.integrity = null;
    $('ig-flags').hidden = true;
    editForm.form.reset();
    editForm.poll = null;
    editForm.list.replaceChildren();
    $('preview').removeAttribute('src');
  }
  const created = cur.created === id;
  cur.created = null;
  $('embed').open = created;
  show('poll', focus && !created);
  if (created) $('h-embed').focus();
  await act(null, async () => {
    const [p, r, ig] = await Promise.all([api('GET', polls(id)), api('GET', polls(id, '/results?bucket=' + bucket())),
      api('GET', polls(id, '/integrity'))]);
    cur.poll = p; cur.res = r; cur.integrity = ig;
    learnZone(r.series && r.series.time_zone);
    renderPoll(); renderEmbed(); renderResults(); renderIntegrity();
    editForm.fill(p, resultVotes());
  });
}
async function loadResults() {
  cur.res = await api('GET', polls(cur.poll.id, '/results?bucket=' + bucket()));
  renderResults();
}
function renderPoll() {
  const p = cur.poll;
  $('h-poll').textContent = p.question;
  const items = [[t('id'), p.id], [t('state'), t('st_' + p.state)], [t('archived'), t(p.archived ? 'yes' : 'no')],
    [t('opens'), when(p.opens_at)], [t('closes'), when(p.closes_at)], [t('maxShort'), num(p.max_choices)],
    [t('visShort'), t('vis_' + p.results_visibility)], [t('changeShort'), t(p.allow_change ? 'yes' : 'no')],
    [t('voters'), num(p.voters)], [t('votes'), num(p.votes)], [t('version'), num(p.version)], [t('updated'), when(p.updated_at)]];
  $('meta').replaceChildren(...items.map(([k, v]) => h('div', {}, h('dt', { text: k }), h('dd', { text: v }))));
  const notes = [];
  if (p.archived) notes.push(t('archivedNote'));
  if (p.status === 'open' && p.state === 'closed' && p.closes_at) notes.push(t('closedByTime', when(p.closes_at)));
  if (p.state === 'upcoming' && p.opens_at) notes.push(t('notYetOpen', when(p.opens_at)));
  $('meta-note').textContent = notes.join(' ');
  $('meta-note').hidden = !notes.length;
  $('b-close').textContent = t(p.status === 'closed' ? 'reopen' : 'close');
  $('b-archive').textContent = t(p.archived ? 'restore' : 'archive');
}
async function change(btn, verb) {
  if ((verb === 'close' || verb === 'archive') && !(await ask(t('ask_' + verb), t(`ask_${verb}_text`), t(verb), verb === 'archive'))) return;
  await act(btn, async () => {
    const p = cur.poll;
    cur.poll = await api(verb === 'archive' ? 'DELETE' : 'POST', polls(p.id, verb === 'archive' ? '' : '/' + verb));
    renderPoll();
    reloadPreview();
    say(t('did_' + verb));
  });
}
on('b-close', 'click', (e) => change(e.currentTarget, cur.poll.status === 'closed' ? 'reopen' : 'close'));
on('b-archive', 'click', (e) => change(e.currentTarget, cur.poll.archived ? 'restore' : 'archive'));
on('b-reload', 'click', (e) => act(e.currentTarget, async () => {
  cur.poll = await api('GET', polls(cur.poll.id)); renderPoll(); await loadResults(); await loadIntegrity();
  editForm.fill(cur.poll, resultVotes()); reloadPreview();
}));

// ------------------------------------------------------------------------------- reset (asked twice)
// First a confirmation, then the poll id typed: the OK button is enabled only once it matches.
function askTyped(title, text, expected, okLabel) {
  const input = h('input', { id: 'cf-typed', autocomplete: 'off', spellcheck: 'false' });
  const label = h('label', { for: 'cf-typed', text: t('typeId') });
  const done = ask(title, [h('p', { text }), label, input], okLabel, true);
  const ok = $('cf-ok');
  ok.disabled = true;
  input.addEventListener('input', () => { ok.disabled = input.value.trim() !== expected; });
  input.focus();
  return done.then((yes) => { ok.disabled = false; return yes && input.value.trim() === expected; });
}
on('b-reset', 'click', async (e) => {
  const btn = e.currentTarget, id = cur.poll.id;
  if (!(await ask(t('ask_reset'), t('ask_reset_text'), t('resetNext'), true))) return;
  if (!(await askTyped(t('ask_reset2'), t('ask_reset2_text', id), id, t('resetOk')))) return;
  await act(btn, async () => {
    await api('POST', polls(id, '/reset'), { confirm: id });
    cur.poll = await api('GET', polls(id)); renderPoll(); await loadResults(); await loadIntegrity();
    editForm.fill(cur.poll, resultVotes()); reloadPreview();
    say(t('did_reset'));
  });
});

// ------------------------------------------------------------------------------- integrity
const IG_KINDS = ['ballots', 'dup', 'limited', 'challenged', 'solved'];
async function loadIntegrity() {
  cur.integrity = await api('GET', polls(cur.poll.id, '/integrity'));
  renderIntegrity();
}
function renderIntegrity() {
  const ig = cur.integrity;
  if (!ig) return;
  $('ig-totals').replaceChildren(...IG_KINDS.map((k) => h('div', { 'data-kind': k }, h('dt', { text: t('ig_' + k) }), h('dd', { text: num(ig.totals[k]) }))));
  const sh = ig.buckets.share_percent;
  $('ig-shares').textContent = ig.hours.length ? t('igShares', ig.buckets.count, sh.top1, sh.top5, sh.top10) : t('igNone');
  const flagged = ig.hours.filter((x) => x.flagged);
  $('ig-flags').textContent = flagged.length ? t('igFlags', flagged.map((x) => when(x.start)).join(', '), ig.median_hour_ballots) : '';
  $('ig-flags').hidden = !flagged.length;
  $('ig-table').replaceChildren(table(t('integrityTitle'), [t('igHour'), ...IG_KINDS.map((k) => t('ig_' + k)), t('igFlagged')],
    ig.hours.map((x) => [when(x.start), ...IG_KINDS.map((k) => num(x[k])), x.flagged ? t('yes') : ''])));
}

// ------------------------------------------------------------------------------- audit log
async function openAudit(focus) {
  show('audit', focus);
  await act(null, async () => { cur.audit = await api('GET', 'audit?limit=50'); renderAudit(); });
}
function renderAudit() {
  const cell = (key, attrs) => h('td', { 'data-label': t(key), ...attrs });
  const rows = (cur.audit?.entries || []).map((e) => h('tr', { 'data-seq': e.seq },
    cell('auditAt', { text: when(e.at) }), cell('auditActor', { class: 'actor', text: e.actor }),
    cell('auditAction', { class: 'action', 'data-action': e.action, text: t('act_' + e.action.replace('.', '_')) }),
    cell('auditTarget', { text: e.target }), cell('auditRequest', { class: 'pid', text: e.request_id })));
  $('audit').tBodies[0].replaceChildren(...rows);
  $('audit-empty').hidden = rows.length > 0;
  $('audit-more').hidden = !cur.audit || cur.audit.next_before === null;
}
on('audit-refresh', 'click', (e) => act(e.currentTarget, async () => { cur.audit = await api('GET', 'audit?limit=50'); renderAudit(); }));
on('audit-more', 'click', (e) => act(e.currentTarget, async () => {
  const more = await api('GET', `audit?limit=50&before=${cur.audit.next_before}`);
  cur.audit = { entries: [...cur.audit.entries, ...more.entries], next_before: more.next_before };
  renderAudit();
}));
for (const r of document.querySelectorAll('input[name=bucket]')) r.addEventListener('change', () => act(null, loadResults));
for (const r of document.querySelectorAll('input[name=lines]')) r.addEventListener('change', () => cur.res && renderLine());

// ------------------------------------------------------------------------------- embed codes
function embedCodes(id) {
  const en = $('code-lang').value === 'en', q = en ? '?lang=en' : '';
  return {
    widget: `<div data-thamdo-poll="${id}"${en ? ' data-lang="en"' : ''}></div>\n<script src="${BASE}widget.js" async></script>`,
    iframe: `<iframe src="${BASE}embed/polls/${id}${q}" title="${en ? 'Opinion poll' : 'Thăm dò ý kiến'}" width="100%" height="460" style="border:0" loading="lazy"></iframe>`,
    preview: `${BASE}embed/polls/${id}${q}`,
  };
}
function renderEmbed() {
  const c = embedCodes(cur.poll.id);
  $('code-widget').value = c.widget;
  $('code-iframe').value = c.iframe;
  if ($('preview').getAttribute('src') !== c.preview) $('preview').setAttribute('src', c.preview);
}
function reloadPreview() { const f = $('preview'); if (f.getAttribute('src')) f.setAttribute('src', f.getAttribute('src')); }
on('code-lang', 'change', () => cur.poll && renderEmbed());
// Copies with the Clipboard API, else with the selection and execCommand; else leaves the code
// selected for Ctrl+C.
async function copy(area, btn) {
  let ok = false;
  try { if (navigator.clipboard && window.isSecureContext) { await navigator.clipboard.writeText(area.value); ok = true; } } catch { /* refused: fall back */ }
  if (!ok) {
    area.focus();
    area.select();
    try { ok = document.execCommand('copy'); } catch { ok = false; }
  }
  if (ok) btn.focus(); else { area.focus(); area.select(); }
  say(t(ok ? 'copied' : 'copyByHand'));
}
on('copy-widget', 'click', (e) => copy($('code-widget'), e.currentTarget));
on('copy-iframe', 'click', (e) => copy($('code-iframe'), e.currentTarget));

// ------------------------------------------------------------------------------- charts
// Drawn at the width they get (redrawn when it changes), so text keeps its size on a phone.
const chartWidth = (box) => Math.round(Math.min(760, Math.max(260, box.clientWidth || 640)));
function renderResults() {
  const r = cur.res;
  let st = t('stats', r.total, r.voters, r.duplicates_refused || 0, r.changes || 0);
  if (r.first_vote_at) st += t('span', when(r.first_vote_at), when(r.last_vote_at));
  $('stats').textContent = st;
  const W = chartWidth($('bars')), row = 46, max = Math.max(1, ...r.options.map((o) => o.votes));
  const valW = 118, chars = Math.floor(W / 7.6);
  const svg = s('svg', { viewBox: `0 0 ${W} ${r.options.length * row + 4}`, width: W, role: 'img', class: 'bars',
    'aria-label': t('barsTitle') + ': ' + r.options.map((o) => `${o.label}: ${t('nVotes', o.votes)} (${pct(o.percent)})`).join('; ') });
  r.options.forEach((o, i) => {
    const y = i * row + 4, w = Math.round((o.votes / max) * (W - valW));
    const label = o.label.length > chars ? o.label.slice(0, chars - 1) + '…' : o.label;
    const text = `${o.label}: ${t('nVotes', o.votes)} (${pct(o.percent)})`;
    const g = s('g', { class: 'bar', 'data-option': o.id, 'data-votes': o.votes });
    g.append(s('title', {}, text), s('text', { x: 0, y: y + 13, class: 'lbl' }, label),
      s('rect', { x: 0, y: y + 19, width: W - valW, height: 18, class: 'track' }),
      s('rect', { x: 0, y: y + 19, width: Math.max(w, o.votes ? 2 : 0), height: 18, fill: color(i) }),
      s('text', { x: Math.max(w, 0) + 6, y: y + 33, class: 'val' }, `${num(o.votes)} · ${pct(o.percent)}`));
    svg.append(g);
  });
  $('bars').replaceChildren(svg);
  $('bars-table').replaceChildren(table(t('barsTitle'), [t('option'), t('votes'), t('percent')],
    [...r.options.map((o) => [o.label, num(o.votes), pct(o.percent)]), [t('total'), num(r.total), pct(r.total ? 100 : 0)]]));
  renderLine();
}
// Integer ticks: steps of 1, 2 or 5 × 10^k, about five.
function ticks(max) {
  const raw = Math.max(1, max / 5), mag = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * mag).find((x) => x >= raw));
  return { step, top: Math.max(step, Math.ceil(max / step) * step) };
}
// A chart over time into box: columns while the points are few (one point is one labelled group
// of columns, never a lone dot), lines beyond. points: [{tick, sub, full}]; series: [{label, color, v}].
function timeChart(box, title, points, series) {
  const n = points.length, k = series.length;
  const W = chartWidth(box), H = W < 480 ? 230 : 260, L = 44, R = 14, T = 18, B = 44, pw = W - L - R, ph = H - T - B;
  const { step, top } = ticks(Math.max(1, ...series.flatMap((x) => x.v)));
  const Y = (v) => T + ph - (v / top) * ph;
  const columns = n <= 31 && n * k * 4 <= pw;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, width: W, role: 'img', class: 'line',
    'data-kind': columns ? 'columns' : 'lines', 'aria-label': `${title}: ${points[0].full} – ${points[n - 1].full}` });
  for (let v = 0; v <= top; v += step) {
    svg.append(s('line', { x1: L, x2: W - R, y1: Y(v), y2: Y(v), class: v ? 'grid' : 'axis' }),
      s('text', { x: L - 6, y: Y(v) + 4, class: 'ytick' }, num(v)));
  }
  svg.append(s('line', { x1: L, x2: L, y1: T, y2: T + ph, class: 'axis' }));
  const gw = pw / n;
  const X = columns ? (j) => L + (j + 0.5) * gw : (j) => (n < 2 ? L + pw / 2 : L + (j * pw) / (n - 1));
  // x labels, thinned to fit, the last point always labelled (a single point gets its full date)
  const room = Math.max(1, Math.floor(pw / (n === 1 ? pw : 64))), every = Math.ceil(n / Math.min(n, room));
  for (let j = (n - 1) % every; j < n; j += every) {
    const tx = s('text', { x: X(j), y: T + ph + 16, class: 'xtick' }, n === 1 ? points[j].full : points[j].tick);
    if (points[j].sub && n > 1) tx.append(s('tspan', { x: X(j), dy: 14 }, points[j].sub));
    svg.append(s('line', { x1: X(j), x2: X(j), y1: T + ph, y2: T + ph + 4, class: 'axis' }), tx);
  }
  if (columns) {
    const bw = Math.min(44, (gw * (n === 1 ? 0.7 : 0.8)) / k), showVal = bw >= 16 || n === 1;
    series.forEach((x, si) => {
      const g = s('g', { class: 'series' });
      x.v.forEach((v, j) => {
        const x0 = X(j) - (bw * k) / 2 + si * bw;
        const c = s('rect', { x: x0.toFixed(1), y: Y(v).toFixed(1), width: Math.max(1, bw - 1).toFixed(1), height: (T + ph - Y(v)).toFixed(1), fill: x.color, class: 'col', 'data-value': v });
        c.append(s('title', {}, `${x.label}, ${points[j].full}: ${num(v)}`));
        g.append(c);
        if (showVal) g.append(s('text', { x: (x0 + bw / 2).toFixed(1), y: (Y(v) - 4).toFixed(1), class: 'cval' }, num(v)));
      });
      svg.append(g);
    });
  } else {
    for (const x of series) {
      const g = s('g', { class: 'series' });
      g.append(s('title', {}, x.label),
        s('polyline', { points: x.v.map((v, j) => `${X(j).toFixed(1)},${Y(v).toFixed(1)}`).join(' '), stroke: x.color }));
      if (n <= 60) x.v.forEach((v, j) => g.append(s('circle', { cx: X(j), cy: Y(v), r: 3, fill: x.color })));
      svg.append(g);
    }
  }
  box.replaceChildren(svg);
}
const legend = (ul, series) => ul.replaceChildren(...series.map((x) => h('li', {}, h('span', { class: 'sw', style: 'background:' + x.color }), x.label)));
function renderLine() {
  const r = cur.res, pts = (r.series && r.series.points) || [], hour = r.series && r.series.bucket === 'hour';
  const series = $('ln-tot').checked
    ? [{ label: t('total'), color: '#222', v: pts.map((p) => p.total) }]
    : r.options.map((o, i) => ({ label: o.label, color: color(i), v: pts.map((p) => (p.votes && p.votes[o.id]) || 0) }));
  const points = pts.map((p, j) => {
    const w = wallOf(p.start), prev = j && wallOf(pts[j - 1].start);
    return { tick: hour ? hm(w) : dm(w), sub: hour && (!prev || prev.d !== w.d) ? dm(w) : null, full: hour ? `${dmy(w)} ${hm(w)}` : dmy(w) };
  });
  $('line-table').replaceChildren(table(t('lineTitle'), [t('time'), ...series.map((x) => x.label)],
    points.map((p, j) => [p.full, ...series.map((x) => num(x.v[j]))])));
  legend($('legend'), series);
  if (!pts.length || !r.total) { $('line').replaceChildren(h('p', { class: 'help', text: t('noVotes') })); return; }
  timeChart($('line'), `${t('lineTitle')} (${t(hour ? 'byHour' : 'byDay').toLowerCase()})`, points, series);
}

// ------------------------------------------------------------------------------- CSV
// Fetched with the token, saved as a Blob under the service's file name.
async function download(btn, path, fallback) {
  await act(btn, async () => {
    const res = await api('GET', path + (lang === 'en' ? '&lang=en' : ''), undefined, true);
    const name = (/filename="?([^";]+)/i.exec(res.headers.get('Content-Disposition')) || [0, fallback])[1];
    const url = URL.createObjectURL(await res.blob());
    const a = h('a', { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 30000);
    say(t('downloaded', name));
  });
}
on('csv-totals', 'click', (e) => download(e.currentTarget, polls(cur.poll.id, '/results?format=csv'), `${cur.poll.id}-results.csv`));
on('csv-series', 'click', (e) => download(e.currentTarget, polls(cur.poll.id, '/series?format=csv&bucket=' + bucket()), `${cur.poll.id}-series.csv`));

// ------------------------------------------------------------------------------- visitor counter
const vis = { hist: null, shown: null, sites: new Set() };
const FIGURES = ['today', 'yesterday', 'this_week', 'this_month', 'total', 'online'];
const BASES = ['total', 'today', 'this_week', 'this_month'];
const siteQ = (site) => 'site=' + encodeURIComponent(site);
async function openVisits(site, focus) {
  show('visits', focus);
  markSite('');
  await act(null, async () => {
    let hist;
    try {
      hist = await api('GET', 'visits' + (site ? '?' + siteQ(site) : ''));
    } catch (e) {
      if (e.code !== 'unknown_site') throw e;
      $('site').value = site;
      markSite(t('unknownSite', site));
      return;
    }
    learnZone(hist.time_zone);
    vis.hist = hist;
    vis.shown = await publicCounter(hist.site);
    for (const x of [hist.site, ...(Array.isArray(hist.sites) ? hist.sites : [])]) vis.sites.add(x);
    $('sites').replaceChildren(...[...vis.sites].map((x) => h('option', { value: x })));
    $('site').value = hist.site;
    renderVisits();
    fillBases();
  });
}
// What readers see (bases included): the public counter; null when it cannot be read.
async function publicCounter(site) {
  try {
    const r = await fetch(`${BASE}api/v1/visits?${siteQ(site)}`, { cache: 'no-store', credentials: 'omit' });
    return r.ok ? await r.json() : null;
  } catch { return null; }
}
function markSite(msg) {
  $('e-site').textContent = msg;
  if (msg) $('site').setAttribute('aria-invalid', 'true'); else $('site').removeAttribute('aria-invalid');
  if (msg) $('site').focus();
}
on('site', 'input', () => markSite(''));
on('site-form', 'submit', (ev) => {
  ev.preventDefault();
  const v = $('site').value.trim();
  if (!/^[a-z0-9-]{1,64}$/.test(v)) { markSite(t('unknownSite', v)); return; }
  const hash = '#visits/' + v;
  if (location.hash === hash) openVisits(v, false); else location.hash = hash;
});
for (const r of document.querySelectorAll('input[name=range]')) r.addEventListener('change', () => vis.hist && renderVisitChart());
function renderVisits() {
  const c = vis.shown;
  $('shown').replaceChildren(...FIGURES.map((k) => h('div', { 'data-figure': k }, h('dt', { text: t('f_' + k) }), h('dd', { text: c ? num(c[k]) : '—' }))));
  renderVisitChart();
  // month and year totals over the whole history, newest first
  const by = (len) => {
    const m = new Map();
    for (const d of vis.hist.days) {
      const key = d.date.slice(0, len), x = m.get(key) || { visits: 0, bots: 0 };
      x.visits += d.visits; x.bots += d.bots; m.set(key, x);
    }
    return [...m.entries()].reverse();
  };
  $('months').replaceChildren(table(t('monthsTitle'), [t('month'), t('visitsS'), t('botsS')],
    by(7).map(([k, x]) => [`${k.slice(5)}/${k.slice(0, 4)}`, num(x.visits), num(x.bots)])));
  $('years').replaceChildren(table(t('yearsTitle'), [t('year'), t('visitsS'), t('botsS')],
    by(4).map(([k, x]) => [k, num(x.visits), num(x.bots)])));
}
function renderVisitChart() {
  const all = vis.hist.days, n = Number(document.querySelector('input[name=range]:checked').value);
  const days = n ? all.slice(-n) : all;
  const points = days.map((d) => { const w = wallOf(d.date); return { tick: dm(w), full: dmy(w) }; });
  const series = [
    { label: t('visitsS'), color: '#1f5fa8', v: days.map((d) => d.visits) },
    { label: t('botsS'), color: '#a8a29e', v: days.map((d) => d.bots) },
  ];
  const sum = (k) => days.reduce((a, d) => a + d[k], 0);
  $('v-sum').textContent = days.length ? t('vsum', points[0].full, points[points.length - 1].full, sum('visits'), sum('bots')) : '';
  legend($('v-legend'), series);
  $('v-table').replaceChildren(table(t('visitsChart'), [t('date'), t('visitsS'), t('visitorsS'), t('botsS')],
    days.map((d, j) => [points[j].full, num(d.visits), num(d.visitors), num(d.bots)])));
  if (!days.length || !sum('visits') && !sum('bots')) { $('v-chart').replaceChildren(h('p', { class: 'help', text: t('noVisits') })); return; }
  timeChart($('v-chart'), t('visitsChart'), points, series);
}
on('csv-visits', 'click', (e) => download(e.currentTarget, `visits?${siteQ(vis.hist.site)}&format=csv`, `visits-${vis.hist.site}.csv`));

// bases: the stored ones of the current day, week and month (the last day of the history is today)
function storedBases() {
  const b = vis.hist.bases || {}, days = vis.hist.days, today = days.length ? days[days.length - 1].date : '';
  return { total: b.total ?? null, today: b['day:' + today] ?? null, this_week: today ? b['week:' + isoWeek(today)] ?? null : null, this_month: b['month:' + today.slice(0, 7)] ?? null };
}
function fillBases() {
  const b = storedBases();
  for (const k of BASES) { $('b-' + k).value = b[k] === null ? '' : num(b[k]); markBase(k, ''); }
  $('bases-error').hidden = true;
}
// A count as typed ("1.777.782", "1 777 782", "1777782"): a number, null when empty, NaN when wrong.
function parseCount(v) {
  v = v.trim();
  if (!v) return null;
  if (!/^\d+$|^\d{1,3}([.,\s\u00a0\u202f]\d{3})+$/.test(v)) return NaN;
  const n = Number(v.replace(/\D/g, ''));
  return n <= COUNT_MAX ? n : NaN;
}
function markBase(k, msg) {
  $('e-b-' + k).textContent = msg;
  if (msg) $('b-' + k).setAttribute('aria-invalid', 'true'); else $('b-' + k).removeAttribute('aria-invalid');
}
for (const k of BASES) {
  on('b-' + k, 'input', () => {
    if ($('b-' + k).getAttribute('aria-invalid')) markBase(k, Number.isNaN(parseCount($('b-' + k).value)) ? t('countBad') : '');
    if (!document.querySelector('#bases-form [aria-invalid]')) $('bases-error').hidden = true;
  });
}
on('bases-form', 'submit', async (ev) => {
  ev.preventDefault();
  const stored = storedBases(), body = {}, lines = [];
  let bad = null;
  for (const k of BASES) {
    const v = parseCount($('b-' + k).value);
    markBase(k, Number.isNaN(v) ? t('countBad') : '');
    if (Number.isNaN(v)) { bad = bad || $('b-' + k); continue; }
    if (v !== stored[k]) {
      body[k] = v;
      const show = (x) => (x === null ? t('none') : num(x));
      lines.push(h('li', { text: `${$('b-' + k).labels[0].textContent}: ${show(stored[k])} → ${show(v)}` }));
    }
  }
  if (bad) { $('bases-error').textContent = t('fixFields'); $('bases-error').hidden = false; bad.focus(); return; }
  $('bases-error').hidden = true;
  if (!lines.length) { say(t('noChanges')); return; }
  if (!(await ask(t('ask_bases'), [h('p', { text: t('ask_bases_text') }), h('ul', {}, ...lines)], t('saveBasesOk')))) return;
  await act(ev.submitter || $('bases-form').querySelector('[type=submit]'), async () => {
    const site = vis.hist.site;
    vis.shown = await api('PUT', `visits/base?${siteQ(site)}`, body);
    vis.hist = await api('GET', `visits?${siteQ(site)}`);
    renderVisits();
    fillBases();
    say(t('basesSaved'));
  });
});

// ------------------------------------------------------------------------------- language, width, start
function applyLang() {
  document.documentElement.lang = lang;
  document.title = t('title');
  for (const e of document.querySelectorAll('[data-t]')) e.textContent = t(e.dataset.t);
  document.querySelector('nav.tools').setAttribute('aria-label', t('tools'));
  $('preview').title = t('previewTitle');
  const b = $('lang');
  b.textContent = lang === 'vi' ? 'English' : 'Tiếng Việt';
  b.lang = lang === 'vi' ? 'en' : 'vi';
  for (const f of forms) f.relabel();
  if (cur.view === 'list' && cur.polls) renderList();
  if (cur.view === 'poll' && cur.poll) { renderPoll(); if (cur.res) renderResults(); renderIntegrity(); }
  if (cur.view === 'audit' && cur.audit) renderAudit();
  if (cur.view === 'visits' && vis.hist) { renderVisits(); fillBases(); }
}
function redraw() {
  if (cur.view === 'poll' && cur.res) renderResults();
  if (cur.view === 'visits' && vis.hist) renderVisitChart();
}
let lastWidth = document.documentElement.clientWidth, pending = false;
window.addEventListener('resize', () => {
  if (pending || document.documentElement.clientWidth === lastWidth) return;
  pending = true;
  requestAnimationFrame(() => { pending = false; lastWidth = document.documentElement.clientWidth; redraw(); });
});

for (const e of document.querySelectorAll('[data-t]')) TEXT.vi[e.dataset.t] ??= e.textContent;
window.addEventListener('hashchange', () => route(true));
applyLang();
route(false);
