// Tests run on the machine's Node 20; Lambda runs Node 22, so the SDK's Node 20 end-of-support notice is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
